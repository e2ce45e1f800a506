import { resolveIdleSuspendAfter } from '@substrate/api';
import { ateapi } from '@substrate/proto';
import type { Catalog } from '../catalog/catalog';
import {
  alreadyExists,
  conflict,
  ControlError,
  failedPrecondition,
  internal,
  invalidArgument,
  notFound,
} from '../errors/control-error';
import type { ControlStore } from '../store/control-store';
import { isStoreError } from '../store/store-error';
import type { ActorWorkflows } from '../workflows/actor-workflows';
import type { WorkerDirectory } from '../workers/worker-directory';
import { MAX_PAGE_SIZE, required, validateAnnotations, validateLabel, validateSelector } from './validation';

export interface ControlServiceOptions {
  /** Whether DebugClear may erase the store (off unless configured). */
  readonly debugClearEnabled: boolean;
}

/** Called after an actor is deleted, to remove its snapshots (garbage collection). */
export type ActorDeletedHook = (actor: ateapi.Actor) => Promise<void>;

/**
 * The operations of `ateapi.Control`, shared by the gRPC service and the REST gateway: validation with
 * upstream's messages, then the store or a workflow. Throws only ControlErrors; each transport maps
 * them to its own status codes once.
 */
export class ControlService {
  constructor(
    private readonly store: ControlStore,
    private readonly catalog: Catalog,
    private readonly workflows: ActorWorkflows,
    private readonly directory: WorkerDirectory,
    private readonly options: ControlServiceOptions,
    private readonly onActorDeleted: ActorDeletedHook = async () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async getActor(request: ateapi.GetActorRequest): Promise<ateapi.GetActorResponse> {
    const { atespace, name } = refOf(request.actorRef);
    required(name, 'id is required');
    required(atespace, 'atespace is required');
    const actor = await guard(() => this.store.getActor(atespace, name));
    if (!actor) throw notFound(`Actor ${name} not found`);
    return { actor: this.present(actor) };
  }

  async createActor(request: ateapi.CreateActorRequest): Promise<ateapi.CreateActorResponse> {
    const { atespace, name } = refOf(request.actorRef);
    required(request.actorTemplateNamespace, 'actor_template_namespace is required');
    required(request.actorTemplateName, 'actor_template_name is required');
    required(name, 'actor_id is required');
    validateLabel('actor_id', name);
    required(atespace, 'atespace is required');
    validateLabel('atespace', atespace);
    validateSelector(request.workerSelector);
    validateAnnotations(request.annotations);
    const { actorTemplateNamespace: ns, actorTemplateName: template } = request;
    if (!this.catalog.getTemplate(ns, template))
      throw failedPrecondition(`ActorTemplate ${ns}/${template} not found`);
    await this.requireLiveAtespace(atespace);
    const actor: ateapi.Actor = {
      ...ateapi.Actor.fromPartial({}),
      actorId: name,
      atespace,
      actorTemplateNamespace: ns,
      actorTemplateName: template,
      status: ateapi.Actor_Status.STATUS_SUSPENDED,
      workerSelector: request.workerSelector,
      annotations: { ...request.annotations },
      statusChangedUnixMs: this.now(),
    };
    let stored: ateapi.Actor;
    try {
      stored = await this.store.createActor(actor);
    } catch (error) {
      if (isStoreError(error, 'EXISTS')) throw alreadyExists(`Actor ${name} already exists`);
      throw mapStoreError(error);
    }
    // The atespace may have started deleting between the check and the write: if so, take the actor
    // back, so an atespace is never deleted with an actor in it.
    const space = await guard(() => this.store.getAtespace(atespace));
    if (!space || space.deleting) {
      await this.store.deleteActor(atespace, name, stored.version).catch(() => undefined);
      throw failedPrecondition(`Atespace ${atespace} not found`);
    }
    return { actor: this.present(stored) };
  }

  async updateActor(request: ateapi.UpdateActorRequest): Promise<ateapi.UpdateActorResponse> {
    const { atespace, name } = refOf(request.actorRef);
    required(name, 'actor_id is required');
    required(atespace, 'atespace is required');
    validateLabel('atespace', atespace);
    validateSelector(request.workerSelector);
    const actor = await guard(() => this.store.getActor(atespace, name));
    if (!actor) throw notFound(`Actor ${name} not found`);
    const stored = await guard(() =>
      this.store.putActor({ ...actor, workerSelector: request.workerSelector }),
    );
    return { actor: this.present(stored) };
  }

  async resumeActor(request: ateapi.ResumeActorRequest): Promise<ateapi.ResumeActorResponse> {
    const { atespace, name } = this.workflowRef(request.actorRef);
    return { actor: this.present(await guard(() => this.workflows.resume(atespace, name, request.boot))) };
  }

  async suspendActor(request: ateapi.SuspendActorRequest): Promise<ateapi.SuspendActorResponse> {
    const { atespace, name } = this.workflowRef(request.actorRef);
    return { actor: this.present(await guard(() => this.workflows.suspend(atespace, name))) };
  }

  async pauseActor(request: ateapi.PauseActorRequest): Promise<ateapi.PauseActorResponse> {
    const { atespace, name } = this.workflowRef(request.actorRef);
    return { actor: this.present(await guard(() => this.workflows.pause(atespace, name))) };
  }

  async deleteActor(request: ateapi.DeleteActorRequest): Promise<ateapi.DeleteActorResponse> {
    const { atespace, name } = refOf(request.actorRef);
    required(name, 'actor_id is required');
    validateLabel('actor_id', name);
    required(atespace, 'atespace is required');
    const actor = await guard(() => this.store.getActor(atespace, name));
    if (!actor) throw notFound(`Actor ${name} not found`);
    if (actor.status !== ateapi.Actor_Status.STATUS_SUSPENDED) {
      throw failedPrecondition(
        `Actor ${name} is not suspended (status: ${ateapi.actor_StatusToJSON(actor.status)})`,
      );
    }
    try {
      await this.store.deleteActor(atespace, name, actor.version);
    } catch (error) {
      if (isStoreError(error, 'MISSING')) throw notFound(`Actor ${name} not found`);
      throw mapStoreError(error);
    }
    await this.onActorDeleted(actor);
    return {};
  }

  async listActors(request: ateapi.ListActorsRequest): Promise<ateapi.ListActorsResponse> {
    if (request.atespace) validateLabel('atespace', request.atespace);
    if (request.pageSize < 0) throw invalidArgument('page_size cannot be negative');
    if (request.pageSize > MAX_PAGE_SIZE) {
      throw invalidArgument(`page_size ${request.pageSize} exceeds maximum page size ${MAX_PAGE_SIZE}`);
    }
    const pageSize = request.pageSize === 0 ? MAX_PAGE_SIZE : request.pageSize;
    try {
      const page = await this.store.listActors(pageSize, request.pageToken, request.atespace || undefined);
      return { actors: page.actors.map((actor) => this.present(actor)), nextPageToken: page.nextPageToken };
    } catch (error) {
      if (isStoreError(error, 'CORRUPT') && error.message.startsWith('invalid page token')) {
        throw invalidArgument(error.message);
      }
      throw mapStoreError(error);
    }
  }

  async listWorkers(): Promise<ateapi.ListWorkersResponse> {
    return { workers: await guard(() => this.store.listWorkers()) };
  }

  async createAtespace(request: ateapi.CreateAtespaceRequest): Promise<ateapi.CreateAtespaceResponse> {
    required(request.name, 'name is required');
    validateLabel('atespace', request.name);
    try {
      await this.store.createAtespace(request.name);
    } catch (error) {
      if (isStoreError(error, 'EXISTS')) throw alreadyExists(`Atespace ${request.name} already exists`);
      throw mapStoreError(error);
    }
    return { atespace: { name: request.name } };
  }

  async getAtespace(request: ateapi.GetAtespaceRequest): Promise<ateapi.GetAtespaceResponse> {
    required(request.name, 'name is required');
    validateLabel('atespace', request.name);
    const stored = await guard(() => this.store.getAtespace(request.name));
    if (!stored) throw notFound(`Atespace ${request.name} not found`);
    return { atespace: stored.atespace };
  }

  async listAtespaces(): Promise<ateapi.ListAtespacesResponse> {
    return { atespaces: await guard(() => this.store.listAtespaces()) };
  }

  /**
   * Deletes an empty atespace. It is first marked as deleting (CreateActor refuses it from then on and
   * takes back an actor that raced in), then checked for actors, then removed; a non-empty atespace is
   * unmarked again. So a concurrent CreateActor either lands before and keeps the atespace, or fails.
   */
  async deleteAtespace(request: ateapi.DeleteAtespaceRequest): Promise<ateapi.DeleteAtespaceResponse> {
    const { name } = request;
    required(name, 'name is required');
    validateLabel('atespace', name);
    const stored = await guard(() => this.store.getAtespace(name));
    if (!stored) throw notFound(`Atespace ${name} not found`);
    await guard(() => this.store.markAtespaceDeleting(name, true));
    if (await guard(() => this.store.atespaceHasActors(name))) {
      await guard(() => this.store.markAtespaceDeleting(name, false));
      throw failedPrecondition(`Atespace ${name} is not empty`);
    }
    await guard(() => this.store.deleteAtespace(name));
    return {};
  }

  async debugClear(): Promise<ateapi.DebugClearResponse> {
    if (!this.options.debugClearEnabled) {
      throw new ControlError(
        'PERMISSION_DENIED',
        'DebugClear is disabled on this server (enable it with ATEAPI_DEBUG_CLEAR=true)',
      );
    }
    await guard(() => this.store.flushAll());
    await this.directory.refresh();
    return {};
  }

  /**
   * The actor as answered: the stored record plus what ateapi resolves on every read — the effective
   * idle auto-suspend timeout (the actor's annotation, else its template's; unset when neither has one).
   */
  private present(actor: ateapi.Actor): ateapi.Actor {
    const template = this.catalog.getTemplate(actor.actorTemplateNamespace, actor.actorTemplateName);
    const idleSuspendAfterMs = resolveIdleSuspendAfter(actor.annotations, template?.metadata.annotations);
    return idleSuspendAfterMs === undefined ? actor : { ...actor, idleSuspendAfterMs };
  }

  private workflowRef(ref: ateapi.ActorRef | undefined): { atespace: string; name: string } {
    const { atespace, name } = refOf(ref);
    required(name, 'id is required');
    required(atespace, 'atespace is required');
    // Upstream does no format check here; a malformed name cannot exist, so it is reported as such
    // instead of a NOT_FOUND after a store round trip.
    validateLabel('actor_id', name);
    validateLabel('atespace', atespace);
    return { atespace, name };
  }

  private async requireLiveAtespace(atespace: string): Promise<void> {
    const space = await guard(() => this.store.getAtespace(atespace));
    if (!space || space.deleting) throw failedPrecondition(`Atespace ${atespace} not found`);
  }
}

function refOf(ref: ateapi.ActorRef | undefined): { atespace: string; name: string } {
  return { atespace: ref?.atespace ?? '', name: ref?.name ?? '' };
}

/** Runs a store call, turning store failures into ControlErrors. */
async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw mapStoreError(error);
  }
}

/** StoreError → ControlError (a lost race is ABORTED, as upstream; anything else INTERNAL). */
export function mapStoreError(error: unknown): unknown {
  if (error instanceof ControlError) return error;
  if (isStoreError(error, 'CONFLICT')) return conflict(error);
  if (isStoreError(error, 'LOCK_LOST')) {
    return new ControlError('ABORTED', 'the operation ran past its lock and was stopped; please retry', {
      cause: error,
    });
  }
  if (isStoreError(error, 'MISSING')) return internal(`internal server error: ${error.message}`, error);
  return error;
}
