// Runs a CLI command in this process and keeps what it printed: the command's own code path, its
// exit code, and its standard output, without a child process.

/** `run()`'s exit code and everything it wrote to stdout. main() sets process.exitCode for the CLI;
 * it is cleared afterwards, or the test process itself would exit 1. */
export async function captureStdout(run: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await run();
    return { code, stdout: chunks.join('') };
  } finally {
    process.stdout.write = write;
    process.exitCode = undefined;
  }
}
