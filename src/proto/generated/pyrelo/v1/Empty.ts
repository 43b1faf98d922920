// Original file: proto/pyrelo/v1/messages.proto


export interface Empty {
}

export interface Empty__Output {
}
