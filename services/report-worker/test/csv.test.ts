/** RFC 4180 CSV with spreadsheet formulas neutralised. */
import { toCsv } from '../src/csv';

describe('toCsv', () => {
  it('joins fields with commas and ends every row with CRLF', () => {
    expect(
      toCsv([
        ['date', 'count'],
        ['2024-03-14', 12],
      ]),
    ).toBe('date,count\r\n2024-03-14,12\r\n');
  });

  it('quotes a field with a comma', () => {
    expect(toCsv([['Kyiv, Ukraine']])).toBe('"Kyiv, Ukraine"\r\n');
  });

  it('quotes a field with a quote and doubles the quote', () => {
    expect(toCsv([['say "hi"']])).toBe('"say ""hi"""\r\n');
  });

  it('quotes a field with a line break', () => {
    expect(toCsv([['one\ntwo', 'a\r\nb', 'c\rd']])).toBe('"one\ntwo","a\r\nb","c\rd"\r\n');
  });

  it('leaves plain fields and empty strings unquoted', () => {
    expect(toCsv([['plain', '', 'x y']])).toBe('plain,,x y\r\n');
  });

  it.each(['=SUM(A1:A9)', '+1+1', '-2+3', '@cmd'])(
    'neutralises the formula %j with a leading apostrophe',
    (formula) => {
      expect(toCsv([[formula]])).toBe(`'${formula}\r\n`);
    },
  );

  it('neutralises a formula before quoting it', () => {
    expect(toCsv([['=HYPERLINK("http://x","y")']])).toBe(`"'=HYPERLINK(""http://x"",""y"")"\r\n`);
  });

  it('leaves negative numbers alone', () => {
    expect(toCsv([[-5, -0.5]])).toBe('-5,-0.5\r\n');
  });

  it('leaves a formula character in the middle of a field alone', () => {
    expect(toCsv([['a=b', 'x-y', 'me@example.com']])).toBe('a=b,x-y,me@example.com\r\n');
  });
});
