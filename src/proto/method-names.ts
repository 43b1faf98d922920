// The method names a generated service type declares. The generated `…Definition` and `…Handlers`
// interfaces extend grpc-js's ServiceDefinition and UntypedServiceImplementation, which carry a
// string index: `keyof` them is `string`, under which a misspelt method name would pass.

export type MethodName<Service> = keyof {
  [K in keyof Service as string extends K ? never : number extends K ? never : K]: unknown;
};
