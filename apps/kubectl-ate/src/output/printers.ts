import { ateapi } from '@substrate/proto';
import { stringify } from 'yaml';
import { formatTable } from './table';

export type OutputFormat = 'table' | 'json' | 'yaml';

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** protojson's shape: int64 as a JSON string, enums by name, camelCase. */
function actorJson(actor: ateapi.Actor): unknown {
  const json = ateapi.Actor.toJSON(actor) as Record<string, unknown>;
  return { ...json, version: String(actor.version) };
}

function workerJson(worker: ateapi.Worker): unknown {
  const json = ateapi.Worker.toJSON(worker) as Record<string, unknown>;
  return { ...json, version: String(worker.version) };
}

function render(format: OutputFormat, document: unknown, table: () => string): string {
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  if (format === 'yaml') return stringify(document);
  return table();
}

/** Actors: `ATESPACE  TEMPLATE NS  TEMPLATE  ID  STATUS  ATEOM POD  ATEOM IP  VERSION`, sorted as upstream. */
export function printActors(actors: readonly ateapi.Actor[], format: OutputFormat): string {
  const sorted = [...actors].sort(
    (a, b) =>
      compare(a.atespace, b.atespace) ||
      compare(a.actorTemplateNamespace, b.actorTemplateNamespace) ||
      compare(a.actorTemplateName, b.actorTemplateName) ||
      compare(a.actorId, b.actorId),
  );
  return render(format, { actors: sorted.map(actorJson) }, () =>
    formatTable(
      ['ATESPACE', 'TEMPLATE NS', 'TEMPLATE', 'ID', 'STATUS', 'ATEOM POD', 'ATEOM IP', 'VERSION'],
      sorted.map((a) => [
        a.atespace,
        a.actorTemplateNamespace,
        a.actorTemplateName,
        a.actorId,
        ateapi.actor_StatusToJSON(a.status),
        a.ateomPodName ? `${a.ateomPodNamespace}/${a.ateomPodName}` : '<none>',
        a.ateomPodIp || '<none>',
        String(a.version),
      ]),
    ),
  );
}

/** Workers: `NAMESPACE  POOL  POD  STATUS  ASSIGNED ACTOR`, FREE/ASSIGNED derived from actor_id. */
export function printWorkers(workers: readonly ateapi.Worker[], format: OutputFormat): string {
  const sorted = [...workers].sort(
    (a, b) =>
      compare(a.workerNamespace, b.workerNamespace) ||
      compare(a.workerPool, b.workerPool) ||
      compare(a.workerPod, b.workerPod),
  );
  return render(format, { workers: sorted.map(workerJson) }, () =>
    formatTable(
      ['NAMESPACE', 'POOL', 'POD', 'STATUS', 'ASSIGNED ACTOR'],
      sorted.map((w) => [
        w.workerNamespace,
        w.workerPool,
        w.workerPod,
        w.actorId ? 'ASSIGNED' : 'FREE',
        w.actorId ? `${w.actorNamespace}/${w.actorTemplate}/${w.actorId}` : '<none>',
      ]),
    ),
  );
}

/** Atespaces: `NAME`, sorted. */
export function printAtespaces(atespaces: readonly ateapi.Atespace[], format: OutputFormat): string {
  const sorted = [...atespaces].sort((a, b) => compare(a.name, b.name));
  return render(format, { atespaces: sorted.map((a) => ({ name: a.name })) }, () =>
    formatTable(
      ['NAME'],
      sorted.map((a) => [a.name]),
    ),
  );
}
