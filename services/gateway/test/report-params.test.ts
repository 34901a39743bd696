/**
 * `POST /tasks/report` params: a known report type's params are checked and a bad one is a 422
 * naming `["body", "params", <field>]`; `format` is checked for every type; unknown keys and
 * unknown report types pass (report_type is free text, as in the original).
 */
import { ReportTaskRequest, type ValidationIssue } from '@tasks/contracts';
import { HttpError } from '../src/http-error';
import { parseBody } from '../src/validation';

function locsOf(body: unknown): (string | number)[][] {
  try {
    parseBody(ReportTaskRequest, body);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(422);
    return ((err as HttpError).detail as ValidationIssue[]).map((issue) => issue.loc);
  }
  throw new Error('expected a 422');
}

describe('report params at the gateway', () => {
  it.each([
    ['monthly', { month: 1, year: 2024 }],
    ['monthly', { month: '12', year: '2025' }],
    ['monthly', {}],
    ['daily', { format: 'csv' }],
    ['tasks_summary', { from: '2024-02-29', to: '2024-03-01', format: 'pdf' }],
    ['data_processing', { from: '2024-03-01' }],
    ['tasks_summary', { colour: 'blue', nested: { any: 1 } }],
    ['weekly sales (EMEA)', { from: 'last tuesday', region: 'EMEA' }],
  ])('accepts %s with %j', (report_type, params) => {
    expect(parseBody(ReportTaskRequest, { report_type, params })).toMatchObject({
      report_type,
      params,
    });
  });

  it.each([
    ['a month of 13', 'monthly', { month: 13, year: 2024 }, 'month'],
    ['a month of 0', 'monthly', { month: 0 }, 'month'],
    ['a fractional month', 'monthly', { month: 1.5 }, 'month'],
    ['a month named in words', 'monthly', { month: 'March' }, 'month'],
    ['a year before 2000', 'monthly', { month: 1, year: 1999 }, 'year'],
    ['a from that is no date', 'tasks_summary', { from: 'yesterday' }, 'from'],
    ['February 30', 'data_processing', { to: '2024-02-30' }, 'to'],
    ['to before from', 'tasks_summary', { from: '2024-03-10', to: '2024-03-09' }, 'to'],
    ['a format that is neither pdf nor csv', 'daily', { format: 'docx' }, 'format'],
    ['a bad format on a free-text type', 'my own report', { format: 'xlsx' }, 'format'],
  ])('refuses %s naming params.%s', (_, report_type, params, field) => {
    expect(locsOf({ report_type, params })).toEqual([['body', 'params', field]]);
  });

  it('names both the report_type and nothing else when report_type is not a string', () => {
    expect(locsOf({ report_type: 5, params: { month: 13 } })).toEqual([['body', 'report_type']]);
  });
});
