// Reports the server has not acknowledged yet, one file each, written (and fsynced) before they
// are sent and removed when the acknowledgement comes. After a reconnect, or a restart of the
// agent, every file left here is sent again; the server stores each report id once.

import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../proto/messages.js';

export class Outbox {
  constructor(readonly dir: string) {}

  private file(reportId: string): string {
    return join(this.dir, `${reportId}.json`);
  }

  put(report: Report): void {
    const temporary = `${this.file(report.reportId)}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(report));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file(report.reportId));
  }

  acknowledge(reportId: string): void {
    rmSync(this.file(reportId), { force: true });
  }

  pending(): Report[] {
    return readdirSync(this.dir)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .flatMap((name) => {
        try {
          return [JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as Report];
        } catch {
          return []; // a half-written file cannot exist (rename), but never let one block the rest
        }
      });
  }
}
