// Prints the text of the PDF on stdin as JSON ({pages, text, title}), read with pdf.js's legacy
// (Node) build. pdf.js ships as ES modules only, which jest's CommonJS test runtime cannot load:
// system-test/support/pdf-text.ts runs this in its own node process.
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
// verbosity 0: no warnings about standard fonts pdf.js would only need to render.
const doc = await getDocument({ data: new Uint8Array(Buffer.concat(chunks)), verbosity: 0 })
  .promise;
try {
  const parts = [];
  for (let n = 1; n <= doc.numPages; n += 1) {
    const page = await doc.getPage(n);
    const content = await page.getTextContent();
    parts.push(
      content.items
        .map((item) => ('str' in item ? item.str : ''))
        .filter((s) => s.trim().length > 0)
        .join(' '),
    );
  }
  const { info } = await doc.getMetadata();
  process.stdout.write(
    JSON.stringify({ pages: doc.numPages, text: parts.join('\n'), title: info?.Title }),
  );
} finally {
  await doc.destroy();
}
