/**
 * The text of a PDF, page by page, read with pdf.js (Mozilla's reader; the CommonJS legacy
 * build). Each page's text items are joined with single spaces, in drawing order.
 */
import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.js';

export interface PdfText {
  readonly pages: number;
  readonly text: string;
  readonly title: string | undefined;
}

export async function pdfText(bytes: Uint8Array): Promise<PdfText> {
  // verbosity 0: no warnings about standard fonts pdf.js would only need to render.
  const doc = await pdfjs.getDocument({ data: new Uint8Array(bytes), verbosity: 0 }).promise;
  try {
    const parts: string[] = [];
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
    const { info } = (await doc.getMetadata()) as { info?: { Title?: string } };
    return { pages: doc.numPages, text: parts.join('\n'), title: info?.Title };
  } finally {
    await doc.destroy();
  }
}
