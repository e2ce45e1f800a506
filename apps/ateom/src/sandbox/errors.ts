/** Stable codes of {@link SandboxError}; callers branch on these, never on messages. */
export type SandboxErrorCode =
  | 'INVALID_NAME'
  | 'INVALID_ADDRESS'
  | 'INVALID_SPEC'
  | 'ADDRESS_IN_USE'
  | 'COMMAND_FAILED'
  | 'COMMAND_TIMEOUT'
  | 'NETWORK_SETUP_FAILED'
  | 'RUNSC_FAILED'
  | 'NOT_READY'
  | 'BUSY'
  | 'INVALID_STATE'
  | 'INVALID_REQUEST'
  | 'RUNTIME_MISMATCH'
  | 'MISSING_INPUT'
  | 'CONNECTIONS_OPEN';

/** Base class of every error the sandbox feature throws. `cause` holds the underlying error. */
export class SandboxError extends Error {
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A worker, namespace, link or container name that is not safe to hand to `ip` or `runsc`. */
export class InvalidNameError extends SandboxError {
  constructor(
    readonly kind: string,
    readonly value: string,
    rule: string,
  ) {
    super('INVALID_NAME', `invalid ${kind} ${JSON.stringify(value)}: ${rule}`);
  }
}

/** An address outside the ranges the sandbox network may use (loopback and 169.254.0.0/16). */
export class InvalidAddressError extends SandboxError {
  constructor(
    readonly address: string,
    reason: string,
  ) {
    super('INVALID_ADDRESS', `invalid sandbox address ${JSON.stringify(address)}: ${reason}`);
  }
}

/** A bundle description that cannot become an OCI `config.json` (empty args, relative paths, ...). */
export class InvalidSpecError extends SandboxError {
  constructor(reason: string) {
    super('INVALID_SPEC', `invalid sandbox spec: ${reason}`);
  }
}

/** Another link in the root namespace already holds the worker-side address of the sandbox network. */
export class AddressInUseError extends SandboxError {
  constructor(
    readonly address: string,
    readonly link: string,
  ) {
    super(
      'ADDRESS_IN_USE',
      `${address} is already assigned to link ${link}; one sandbox network per host namespace`,
    );
  }
}

/** A helper command exited with a non-zero status or was killed by a signal. */
export class CommandFailedError extends SandboxError {
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    const status = signal === null ? `exit code ${String(exitCode)}` : `signal ${signal}`;
    const detail = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
    super('COMMAND_FAILED', `${command.join(' ')} failed with ${status}${detail}`, options);
  }
}

/** A helper command did not finish before its deadline; it was killed and reaped. */
export class CommandTimeoutError extends SandboxError {
  constructor(
    readonly command: readonly string[],
    readonly timeoutMs: number,
  ) {
    super('COMMAND_TIMEOUT', `${command.join(' ')} did not finish within ${timeoutMs} ms (killed)`);
  }
}

/** Creating, preparing or removing a worker's network namespace failed. */
export class NetworkSetupError extends SandboxError {
  constructor(
    readonly worker: string,
    step: string,
    options?: { cause?: unknown },
  ) {
    super('NETWORK_SETUP_FAILED', `network of worker ${worker}: ${step} failed`, options);
  }
}

/** A runsc operation (run, checkpoint, restore, kill, delete, state) failed. */
export class RunscError extends SandboxError {
  constructor(
    readonly operation: string,
    readonly containerId: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('RUNSC_FAILED', `runsc ${operation} ${containerId} failed: ${detail}`, options);
  }
}

/** The sandboxed process did not answer its readiness probe with 2xx before the deadline. */
export class NotReadyError extends SandboxError {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super('NOT_READY', `${url} did not answer 2xx within ${timeoutMs} ms (${attempts} attempts)`, options);
  }
}

/** Another operation is in flight on this worker's sandbox; one at a time. */
export class WorkerBusyError extends SandboxError {
  constructor(
    readonly worker: string,
    readonly operation: string,
    readonly inFlight: string,
  ) {
    super('BUSY', `worker ${worker}: cannot ${operation} while ${inFlight} is in progress`);
  }
}

/** The operation does not fit the sandbox's state (checkpoint with nothing running, run while running). */
export class InvalidStateError extends SandboxError {
  constructor(
    readonly worker: string,
    readonly operation: string,
    readonly state: string,
  ) {
    super('INVALID_STATE', `worker ${worker}: cannot ${operation} when the sandbox is ${state}`);
  }
}

/** A request field that is missing or malformed; `field` names it as in the .proto (`spec.containers[0].name`). */
export class InvalidRequestError extends SandboxError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super('INVALID_REQUEST', `invalid ${field}: ${problem}`);
  }
}

/** A runtime binary whose content does not have the sha256 it is pinned to. */
export class RuntimeMismatchError extends SandboxError {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'RUNTIME_MISMATCH',
      `refusing runtime binary ${path}: its sha256 is ${actual}, expected ${expected}`,
    );
  }
}

/** Something atelet should have prepared on the node is not there (bundle, snapshot file, runsc binary). */
export class MissingInputError extends SandboxError {
  constructor(
    readonly what: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super('MISSING_INPUT', `${what} not found at ${path}`, options);
  }
}

/**
 * runsc 0.0~20240729 refuses to checkpoint a sandbox holding a TCP connection that is open or still
 * closing (newer runsc has `-allow-connected-on-save`). The sandbox keeps running.
 */
export class OpenConnectionError extends SandboxError {
  constructor(
    readonly containerId: string,
    readonly connection: string,
    /** Whether the sandbox still runs after the refusal (this runsc sometimes loses it). */
    readonly sandboxAlive: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      'CONNECTIONS_OPEN',
      `cannot checkpoint ${containerId}: a TCP connection of the sandbox is open or closing (${connection}); ` +
        'clients must close their connections before a checkpoint' +
        (sandboxAlive ? '' : '; the sandbox did not survive the refused checkpoint'),
      options,
    );
  }
}

/**
 * TCP connections of the sandbox were still open when the checkpoint's drain bound passed (read from the
 * conntrack table of the worker's namespace). runsc was not called: the sandbox keeps running.
 */
export class ConnectionsNotDrainedError extends SandboxError {
  constructor(
    readonly containerId: string,
    readonly connections: readonly {
      readonly remote: string;
      readonly local: string;
      readonly state: string;
    }[],
    readonly waitedMs: number,
  ) {
    const count = connections.length === 1 ? '1 TCP connection' : `${connections.length} TCP connections`;
    const listed = connections
      .map(({ remote, local, state }) => `remote ${remote} to ${local} ${state}`)
      .join(', ');
    super(
      'CONNECTIONS_OPEN',
      `cannot checkpoint ${containerId}: ${count} of the sandbox still open after ${Math.round(waitedMs)} ms ` +
        `(${listed}); clients must close (reset) their connections before a checkpoint; ` +
        'the sandbox keeps running',
    );
  }
}
