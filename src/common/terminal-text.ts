// What the CLI prints that came from elsewhere (names, hosts, reasons stored by the server or sent
// by an agent) must not drive the terminal (issue 13 item 14): an escape sequence in a bundle name
// could retitle the window, clear the screen or hide lines. Every control character but the line
// feed and the tab (C0, DEL and the C1 range, where U+009B is a CSI on some terminals) is shown as
// a JSON-style escape, `\u001b`. JSON.stringify already escapes C0 but leaves DEL and C1 raw; the
// same escape keeps JSON valid, so one function serves both outputs.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** process.stdout.write of `text` with its control characters escaped. */
export function writeOut(text: string): void {
  process.stdout.write(escapeControl(text));
}

/**
 * writeOut of JSON.stringify's text, which has escaped C0 already: only DEL and C1 can be left,
 * bytes 0x7f and 0xc2 (the lead byte of U+0080–U+00BF) in UTF-8. A text holding neither is written
 * as its bytes, without running the escape over it (`pyrelo check --json` of a library folder
 * prints 8 MB). The bytes written are writeOut's.
 */
export function writeJsonOut(json: string): void {
  const bytes = Buffer.from(json, 'utf8');
  if (bytes.indexOf(0x7f) < 0 && bytes.indexOf(0xc2) < 0) process.stdout.write(bytes);
  else writeOut(json);
}

/** process.stderr.write of `text` with its control characters escaped. */
export function writeErr(text: string): void {
  process.stderr.write(escapeControl(text));
}
