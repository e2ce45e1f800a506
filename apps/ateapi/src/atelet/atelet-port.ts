import type { atelet } from '@substrate/proto';

/**
 * How the control plane reaches the atelet that drives a worker. The workflows depend only on this
 * port; the adapter is the real gRPC `atelet.AteomHerder` client (tests and benchmarks point it at a
 * fake atelet *process* that answers the same gRPC API).
 *
 * Every call carries a deadline. A failure is thrown as a {@link ControlError} whose code is the one
 * atelet answered with (INVALID_ARGUMENT, UNAVAILABLE, DEADLINE_EXCEEDED, …) and whose message is
 * atelet's, so it propagates unchanged to ateapi's callers as upstream does.
 */
export interface AteletPort {
  run(endpoint: string, request: atelet.RunRequest, deadline: Date): Promise<void>;
  checkpoint(
    endpoint: string,
    request: atelet.CheckpointRequest,
    deadline: Date,
  ): Promise<atelet.CheckpointResponse>;
  restore(endpoint: string, request: atelet.RestoreRequest, deadline: Date): Promise<void>;
  /** Closes every cached connection. */
  close(): Promise<void>;
}

/** Nest injection token of the {@link AteletPort}. */
export const ATELET_PORT = Symbol('AteletPort');
