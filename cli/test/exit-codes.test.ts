import {
  TasksAuthError,
  TasksConnectionError,
  TasksHttpError,
  TasksNotFoundError,
  TasksUnavailableError,
  TasksValidationError,
} from '@tasks/client';
import { EXIT, exitCodeOfError, exitCodeOfState, UsageError } from '../src/exit-codes';

describe('exit codes', () => {
  it('0 for SUCCESS, 1 for FAILURE and REVOKED', () => {
    expect(exitCodeOfState('SUCCESS')).toBe(EXIT.ok);
    expect(exitCodeOfState('FAILURE')).toBe(EXIT.failed);
    expect(exitCodeOfState('REVOKED')).toBe(EXIT.failed);
  });

  it('2 for invalid input, 3 for unreachable or unauthorised, 1 for any other failure', () => {
    const issue = { loc: ['body', 'email'], msg: 'bad', type: 'value_error' };
    expect(exitCodeOfError(new UsageError('x'))).toBe(2);
    expect(exitCodeOfError(new TasksValidationError([issue], 'POST', '/tasks/email'))).toBe(2);
    expect(exitCodeOfError(new TasksNotFoundError(404, 'Task not found', 'GET', '/tasks/x'))).toBe(
      2,
    );
    expect(exitCodeOfError(new TasksAuthError(401, 'Not authenticated', 'GET', '/x'))).toBe(3);
    expect(exitCodeOfError(new TasksAuthError(403, 'Forbidden', 'GET', '/x'))).toBe(3);
    expect(exitCodeOfError(new TasksUnavailableError(503, 'down', 'POST', '/x'))).toBe(3);
    expect(exitCodeOfError(new TasksConnectionError('refused'))).toBe(3);
    expect(exitCodeOfError(new TasksHttpError(500, 'Internal Server Error', 'GET', '/x'))).toBe(1);
  });
});
