// Runs a CLI command's function in-process with its standard output taken, so that what it prints
// for a user (`bundles add` prints a line) does not mix with a test's or a bench's own output.

export async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await body();
  } finally {
    process.stdout.write = write;
  }
}
