/**
 * The text of a PDF, page by page, read with pdf.js (Mozilla's reader). Each page's text items
 * are joined with single spaces, in drawing order. pdf.js is ES modules only, which jest's
 * CommonJS test runtime cannot load, so the reading runs in a node process of its own (the
 * script below), fed the bytes on stdin.
 */
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface PdfText {
  readonly pages: number;
  readonly text: string;
  readonly title: string | undefined;
}

/** Prints the text of the PDF on stdin as JSON ({pages, text, title}); `PDFJS` is pdf.js's URL. */
const READER = `
const { getDocument } = await import(process.env.PDFJS);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
// verbosity 0: no warnings about standard fonts pdf.js would only need to render.
const doc = await getDocument({ data: new Uint8Array(Buffer.concat(chunks)), verbosity: 0 }).promise;
try {
  const parts = [];
  for (let n = 1; n <= doc.numPages; n += 1) {
    const content = await (await doc.getPage(n)).getTextContent();
    parts.push(content.items.map((item) => ('str' in item ? item.str : '')).filter((s) => s.trim().length > 0).join(' '));
  }
  const { info } = await doc.getMetadata();
  process.stdout.write(JSON.stringify({ pages: doc.numPages, text: parts.join('\\n'), title: info?.Title }));
} finally {
  await doc.destroy();
}
`;

export function pdfText(bytes: Uint8Array): Promise<PdfText> {
  // pdf.js's legacy build is the one for Node.
  const pdfjs = pathToFileURL(require.resolve('pdfjs-dist/legacy/build/pdf.mjs')).href;
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module', '--eval', READER],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
        env: { ...process.env, PDFJS: pdfjs },
      },
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
