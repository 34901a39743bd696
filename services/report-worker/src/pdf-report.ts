/**
 * A report as PDF (pdfkit): title, period, totals, a table naming each task type with its counts
 * (or, for data processing, each day), a stacked bar chart of tasks per day and state drawn with
 * pdfkit's vector API, and the top errors. Text uses the standard Helvetica font (nothing to
 * ship); characters it cannot show are written as `?`.
 */
import PDFDocument from 'pdfkit';
import type { ReportSpec } from './report-spec';
import { CHART_STATES, type ChartState, type ReportSummary } from './summary';

const MARGIN = 50;
const PAGE = { width: 595.28, height: 841.89 }; // A4
const WIDTH = PAGE.width - 2 * MARGIN;
const COLOURS: Record<ChartState, string> = {
  SUCCESS: '#2e9d57',
  FAILURE: '#d64541',
  REVOKED: '#8a8f98',
  RETRY: '#f0a030',
};
const INK = '#1f2328';
const MUTED = '#59636e';
const RULE = '#d0d7de';

/** WinAnsi (what Helvetica covers) is Latin-1 plus a few typographic signs. */
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
export const printable = (text: string): string =>
  [...text]
    .map((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      return (code >= 0x20 && code <= 0x7e) ||
        (code >= 0xa0 && code <= 0xff) ||
        WIN_ANSI_EXTRA.has(ch)
        ? ch
        : '?';
    })
    .join('');

export const formatMs = (ms: number | null): string =>
  ms === null ? '-' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

const formatRate = (rate: number | null): string =>
  rate === null ? '-' : `${(rate * 100).toFixed(1)}%`;

interface Column {
  readonly header: string;
  readonly width: number;
  readonly align: 'left' | 'right';
}

/** A table row by row, left to right (so the text reads in that order). */
function table(
  doc: PDFKit.PDFDocument,
  columns: readonly Column[],
  rows: readonly string[][],
): void {
  const rowHeight = 16;
  const drawRow = (cells: readonly string[], bold: boolean): void => {
    ensureSpace(doc, rowHeight + 2);
    const y = doc.y;
    let x = MARGIN;
    doc
      .font(bold ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(8.5)
      .fillColor(INK);
    columns.forEach((column, i) => {
      doc.text(printable(cells[i] ?? ''), x + 2, y + 4, {
        width: column.width - 4,
        align: column.align,
        lineBreak: false,
        ellipsis: true,
      });
      x += column.width;
    });
    doc
      .moveTo(MARGIN, y + rowHeight)
      .lineTo(MARGIN + WIDTH, y + rowHeight)
      .lineWidth(bold ? 1 : 0.5)
      .strokeColor(RULE)
      .stroke();
    doc.x = MARGIN;
    doc.y = y + rowHeight;
  };
  drawRow(
    columns.map((c) => c.header),
    true,
  );
  for (const row of rows) drawRow(row, false);
  doc.moveDown(1);
}

function ensureSpace(doc: PDFKit.PDFDocument, height: number): void {
  if (doc.y + height > PAGE.height - MARGIN) {
    doc.addPage();
    doc.x = MARGIN;
    doc.y = MARGIN;
  }
}

function heading(doc: PDFKit.PDFDocument, text: string): void {
  ensureSpace(doc, 60);
  doc.font('Helvetica-Bold').fontSize(12).fillColor(INK).text(text, MARGIN, doc.y);
  doc.moveDown(0.4);
}

/** A round step for about `ticks` gridlines up to `max`: 1, 2 or 5 times a power of ten. */
export function niceStep(max: number, ticks = 4): number {
  const raw = Math.max(1, max / ticks);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  return Math.max(1, Math.round(step));
}

/** Stacked bars, one per day, a segment per state; y axis with round gridlines; a legend. */
function barChart(doc: PDFKit.PDFDocument, summary: ReportSummary): void {
  const height = 170;
  ensureSpace(doc, height + 60);
  const top = doc.y + 6;
  const left = MARGIN + 34;
  const plotWidth = WIDTH - 34;
  const bottom = top + height;
  const dayTotals = summary.days.map((d) => CHART_STATES.reduce((s, st) => s + d.counts[st], 0));
  const max = Math.max(1, ...dayTotals);
  const step = niceStep(max);
  const yMax = Math.ceil(max / step) * step;
  const y = (value: number): number => bottom - (value / yMax) * height;

  doc.font('Helvetica').fontSize(7).fillColor(MUTED);
  for (let v = 0; v <= yMax; v += step) {
    doc
      .moveTo(left, y(v))
      .lineTo(left + plotWidth, y(v))
      .lineWidth(0.4)
      .strokeColor(RULE)
      .stroke();
    doc.text(String(v), MARGIN, y(v) - 3, { width: 30, align: 'right', lineBreak: false });
  }

  const n = Math.max(1, summary.days.length);
  const slot = plotWidth / n;
  const barWidth = Math.max(0.8, slot * 0.7);
  const labelEvery = Math.ceil(n / 12);
  summary.days.forEach((day, i) => {
    const x = left + i * slot + (slot - barWidth) / 2;
    let base = 0;
    for (const state of CHART_STATES) {
      const count = day.counts[state];
      if (count <= 0) continue;
      doc
        .rect(x, y(base + count), barWidth, y(base) - y(base + count))
        .fillColor(COLOURS[state])
        .fill();
      base += count;
    }
    if (i % labelEvery === 0) {
      doc.fillColor(MUTED).text(day.day.slice(5), left + i * slot + slot / 2 - 20, bottom + 4, {
        width: 40,
        align: 'center',
        lineBreak: false,
      });
    }
  });
  doc
    .moveTo(left, bottom)
    .lineTo(left + plotWidth, bottom)
    .lineWidth(0.8)
    .strokeColor(MUTED)
    .stroke();

  let legendX = left;
  const legendY = bottom + 18;
  for (const state of CHART_STATES) {
    doc.rect(legendX, legendY, 8, 8).fillColor(COLOURS[state]).fill();
    doc
      .fillColor(INK)
      .fontSize(8)
      .text(state === 'RETRY' ? 'RETRY (retries)' : state, legendX + 11, legendY, {
        width: 75,
        lineBreak: false,
      });
    legendX += 90;
  }
  doc.x = MARGIN;
  doc.y = legendY + 22;
}

function typeTable(doc: PDFKit.PDFDocument, summary: ReportSummary): void {
  const columns: Column[] = [
    { header: 'Task type', width: 135, align: 'left' },
    { header: 'Total', width: 40, align: 'right' },
    { header: 'Succeeded', width: 52, align: 'right' },
    { header: 'Failed', width: 38, align: 'right' },
    { header: 'Revoked', width: 44, align: 'right' },
    { header: 'Retries', width: 40, align: 'right' },
    { header: 'Success', width: 42, align: 'right' },
    { header: 'p50', width: 52, align: 'right' },
    { header: 'p95', width: 52, align: 'right' },
  ];
  table(
    doc,
    columns,
    summary.types.map((t) => [
      t.taskType,
      String(t.total),
      String(t.succeeded),
      String(t.failed),
      String(t.revoked),
      String(t.retries),
      formatRate(t.successRate),
      formatMs(t.p50Ms),
      formatMs(t.p95Ms),
    ]),
  );
}

function dayTable(doc: PDFKit.PDFDocument, summary: ReportSummary): void {
  const columns: Column[] = [
    { header: 'Day', width: 90, align: 'left' },
    { header: 'Succeeded', width: 55, align: 'right' },
    { header: 'Failed', width: 45, align: 'right' },
    { header: 'Revoked', width: 50, align: 'right' },
    { header: 'Retries', width: 45, align: 'right' },
    { header: 'Records', width: 70, align: 'right' },
    { header: 'p50', width: 70, align: 'right' },
    { header: 'p95', width: 70, align: 'right' },
  ];
  const active = summary.days.filter(
    (d) => d.recordsProcessed > 0 || CHART_STATES.some((s) => d.counts[s] > 0),
  );
  table(
    doc,
    columns,
    active.map((d) => [
      d.day,
      String(d.counts.SUCCESS),
      String(d.counts.FAILURE),
      String(d.counts.REVOKED),
      String(d.counts.RETRY),
      String(d.recordsProcessed),
      formatMs(d.p50Ms),
      formatMs(d.p95Ms),
    ]),
  );
}

function topErrors(doc: PDFKit.PDFDocument, summary: ReportSummary): void {
  const failing = summary.types.filter((t) => t.topErrors.length > 0);
  if (failing.length === 0) return;
  heading(doc, 'Top errors');
  for (const t of failing) {
    ensureSpace(doc, 30);
    doc.font('Helvetica-Bold').fontSize(9).fillColor(INK).text(printable(t.taskType), MARGIN);
    doc.font('Helvetica').fontSize(8.5).fillColor(INK);
    for (const e of t.topErrors) {
      ensureSpace(doc, 14);
      doc.text(printable(`${e.count} x ${e.error}`), MARGIN + 10, doc.y, { width: WIDTH - 10 });
    }
    doc.moveDown(0.5);
  }
}

export interface PdfMeta {
  readonly generatedAt: string;
}

/** The report as PDF bytes. */
export function reportPdf(
  spec: ReportSpec,
  summary: ReportSummary,
  meta: PdfMeta,
): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    // The metadata is Unicode (UTF-16): the title stays whole there.
    info: { Title: spec.title, Creator: 'task platform report-worker' },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(20).fillColor(INK).text(printable(spec.title));
  doc.moveDown(0.2);
  const { from, to } = spec.period;
  doc
    .font('Helvetica')
    .fontSize(9.5)
    .fillColor(MUTED)
    .text(
      `Period: ${from === to ? from : `${from} to ${to}`} (UTC days)   Generated: ${meta.generatedAt}`,
    );
  doc.moveDown(0.6);
  const t = summary.totals;
  const finished = t.SUCCESS + t.FAILURE + t.REVOKED;
  const totalsLine =
    `Tasks finished: ${finished} (succeeded ${t.SUCCESS}, failed ${t.FAILURE}, ` +
    `revoked ${t.REVOKED}); retries: ${t.RETRY}` +
    (spec.content === 'data_processing' ? `; records processed: ${t.recordsProcessed}` : '');
  doc.fontSize(10).fillColor(INK).text(totalsLine);
  doc.moveDown(1);

  if (spec.content === 'data_processing') {
    heading(doc, 'Processing tasks by day');
    if (finished === 0 && t.RETRY === 0) {
      doc
        .font('Helvetica')
        .fontSize(9)
        .fillColor(MUTED)
        .text('No processing tasks in this period.');
      doc.moveDown(1);
    } else {
      dayTable(doc, summary);
    }
  } else {
    heading(doc, 'By task type');
    if (summary.types.length === 0) {
      doc.font('Helvetica').fontSize(9).fillColor(MUTED).text('No tasks finished in this period.');
      doc.moveDown(1);
    } else {
      typeTable(doc, summary);
    }
  }
  heading(doc, 'Tasks per day and state');
  barChart(doc, summary);
  topErrors(doc, summary);
  doc.end();
  return done;
}
