/**
 * The text of a PDF, page by page, read with pdf.js (Mozilla's reader). Each page's text items
 * are joined with single spaces, in drawing order. pdf.js is ES modules only, so it runs in a
 * node process of its own (pdf-text-cli.mjs), fed the bytes on stdin.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface PdfText {
  readonly pages: number;
  readonly text: string;
  readonly title: string | undefined;
}

export function pdfText(bytes: Uint8Array): Promise<PdfText> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [join(__dirname, 'pdf-text-cli.mjs')],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`pdf.js could not read the PDF: ${stderr || err.message}`));
          return;
        }
        resolve(JSON.parse(stdout) as PdfText);
      },
    );
    child.stdin?.end(Buffer.from(bytes));
  });
}
