import { status } from '@grpc/grpc-js';
import {
  CommandTimeoutError,
  ConnectionsNotDrainedError,
  InvalidRequestError,
  InvalidStateError,
  MissingInputError,
  NotReadyError,
  RunscError,
  RuntimeMismatchError,
  WorkerBusyError,
} from '../sandbox';
import { grpcStatusOf } from './grpc-status';

describe('gRPC status of ateom errors', () => {
  it.each([
    [
      new InvalidRequestError('actor_id', 'is required'),
      status.INVALID_ARGUMENT,
      'invalid actor_id: is required',
    ],
    [
      new WorkerBusyError('w1', 'RestoreWorkload', 'RunWorkload'),
      status.FAILED_PRECONDITION,
      'worker w1: cannot RestoreWorkload while RunWorkload is in progress',
    ],
    [new InvalidStateError('w1', 'CheckpointWorkload', 'idle'), status.FAILED_PRECONDITION, undefined],
    [new RuntimeMismatchError('/r/runsc-aa', 'aa', 'bb'), status.FAILED_PRECONDITION, undefined],
    [
      new MissingInputError('bundle config.json', '/x'),
      status.FAILED_PRECONDITION,
      'bundle config.json not found at /x',
    ],
    [
      new ConnectionsNotDrainedError(
        'actor',
        [{ local: '169.254.17.2:80', remote: '169.254.131.117:56314', state: 'ESTABLISHED' }],
        2_004.6,
      ),
      status.FAILED_PRECONDITION,
      'cannot checkpoint actor: 1 TCP connection of the sandbox still open after 2005 ms ' +
        '(remote 169.254.131.117:56314 to 169.254.17.2:80 ESTABLISHED); clients must close (reset) their ' +
        'connections before a checkpoint; the sandbox keeps running',
    ],
    [new NotReadyError('http://169.254.17.2:80/readyz', 1_000, 7), status.DEADLINE_EXCEEDED, undefined],
    [new CommandTimeoutError(['runsc'], 5), status.DEADLINE_EXCEEDED, undefined],
    [new RunscError('restore', 'actor', 'boom'), status.INTERNAL, 'runsc restore actor failed: boom'],
  ])('%s → %s', (error, code, message) => {
    expect(grpcStatusOf(error)).toEqual({ code, message: message ?? error.message });
  });

  it('answers INTERNAL with the cause for anything unexpected', () => {
    expect(grpcStatusOf(new TypeError('x is undefined'))).toEqual({
      code: status.INTERNAL,
      message: 'internal server error: x is undefined',
    });
  });
});
