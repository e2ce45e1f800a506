import { type ateapi } from '@substrate/proto';
import { CliError, ControlConnection } from './control-client';
import { type OutputFormat, printActors, printAtespaces, printWorkers } from './output/printers';

/** What a CLI run prints and its exit code. */
export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const DEFAULT_ENDPOINT = '127.0.0.1:8481';

export const USAGE = `kubectl ate: manage Substrate actors, workers and atespaces

Usage:
  kubectl ate <command> [flags]

Commands:
  create actor <id> -t <ns>/<template> -a <atespace>   create an actor (SUSPENDED)
  create atespace <name>                               create an atespace
  get actors [id] (-a <atespace> | -A)                 list actors, or show one
  get atespaces [name]                                 list atespaces, or show one
  get workers                                          list workers
  resume actor <id> -a <atespace> [--boot]             make an actor RUNNING
  suspend actor <id> -a <atespace>                     checkpoint to object storage, free the worker
  pause actor <id> -a <atespace>                       checkpoint on the node, free the worker
  delete actor <id> -a <atespace>                      delete a SUSPENDED actor
  delete atespace <name>                               delete an empty atespace
  version                                              print the plugin version

Flags:
  -a, --atespace <name>     the atespace of the actor
  -A, --all-atespaces       list actors of every atespace
  -t, --template <ns>/<n>   the ActorTemplate of a new actor
      --boot                resume by booting the image, not from the golden snapshot
  -o, --output <format>     table (default), json or yaml
      --endpoint <host:port> ateapi's gRPC address (default $ATE_ENDPOINT or ${DEFAULT_ENDPOINT})
      --token-file <path>   bearer token for ateapi in jwt mode (default $ATE_TOKEN_FILE)
  -h, --help                show this help
`;

interface Parsed {
  readonly words: string[];
  readonly flags: Map<string, string | true>;
}

const FLAG_ALIASES: Record<string, string> = {
  a: 'atespace',
  A: 'all-atespaces',
  t: 'template',
  o: 'output',
  h: 'help',
};
const BOOLEAN_FLAGS = new Set(['all-atespaces', 'boot', 'help']);
const VALUE_FLAGS = new Set(['atespace', 'template', 'output', 'endpoint', 'token-file']);

function parse(argv: readonly string[]): Parsed {
  const words: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') {
      words.push(arg);
      continue;
    }
    const [rawName = '', inline] = arg.replace(/^--?/, '').split(/=(.*)/s, 2);
    const name = arg.startsWith('--') ? rawName : (FLAG_ALIASES[rawName] ?? rawName);
    if (BOOLEAN_FLAGS.has(name)) {
      flags.set(name, true);
    } else if (VALUE_FLAGS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new CliError(`flag ${arg} needs a value`);
      flags.set(name, value);
    } else {
      throw new CliError(`unknown flag: ${arg}`);
    }
  }
  return { words, flags };
}

function flag(parsed: Parsed, name: string): string | undefined {
  const value = parsed.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}

function requireFlag(parsed: Parsed, name: string, short: string): string {
  const value = flag(parsed, name);
  if (!value) throw new CliError(`required flag "-${short}, --${name}" not set`);
  return value;
}

function oneArgument(words: string[], what: string): string {
  if (words.length !== 1) throw new CliError(`expected exactly one ${what}, got ${words.length}`);
  return words[0] ?? '';
}

/** Runs the CLI with `argv` (without the program name). */
export async function runCli(
  argv: readonly string[],
  version: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliResult> {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    return { exitCode: 1, stdout: '', stderr: `error: ${(error as Error).message}\n` };
  }
  const [verb, noun, ...rest] = parsed.words;
  if (verb === undefined || verb === 'help' || parsed.flags.has('help'))
    return { exitCode: 0, stdout: USAGE, stderr: '' };
  if (verb === 'version' && noun === undefined)
    return { exitCode: 0, stdout: `kubectl-ate ${version}\n`, stderr: '' };
  const output = flag(parsed, 'output') ?? 'table';
  if (!['table', 'json', 'yaml'].includes(output)) {
    return {
      exitCode: 1,
      stdout: '',
      stderr: `error: unknown output format "${output}" (table, json or yaml)\n`,
    };
  }
  const connection = new ControlConnection(
    flag(parsed, 'endpoint') ?? env['ATE_ENDPOINT'] ?? DEFAULT_ENDPOINT,
    flag(parsed, 'token-file') ?? env['ATE_TOKEN_FILE'],
  );
  try {
    const stdout = await dispatch(connection, verb, noun, rest, parsed, output as OutputFormat);
    return { exitCode: 0, stdout, stderr: '' };
  } catch (error) {
    if (error instanceof CliError) return { exitCode: 1, stdout: '', stderr: `error: ${error.message}\n` };
    throw error;
  } finally {
    connection.close();
  }
}

const singular = (noun: string | undefined): string | undefined =>
  noun === 'actors' ? 'actor' : noun === 'atespaces' ? 'atespace' : noun === 'workers' ? 'worker' : noun;

async function dispatch(
  c: ControlConnection,
  verb: string,
  rawNoun: string | undefined,
  args: string[],
  parsed: Parsed,
  output: OutputFormat,
): Promise<string> {
  const noun = singular(rawNoun);
  const ref = () => ({ atespace: requireFlag(parsed, 'atespace', 'a'), name: oneArgument(args, 'actor ID') });
  switch (`${verb} ${noun ?? ''}`) {
    case 'create actor': {
      const template = requireFlag(parsed, 'template', 't');
      const [namespace, name, extra] = template.split('/');
      if (!namespace || !name || extra !== undefined)
        throw new CliError(`--template must be <namespace>/<name>, got "${template}"`);
      const { actor } = await c.call<ateapi.CreateActorResponse>('createActor', {
        actorRef: ref(),
        actorTemplateNamespace: namespace,
        actorTemplateName: name,
        annotations: {},
      });
      return printActors(actor ? [actor] : [], output);
    }
    case 'create atespace': {
      const { atespace } = await c.call<ateapi.CreateAtespaceResponse>('createAtespace', {
        name: oneArgument(args, 'atespace name'),
      });
      return printAtespaces(atespace ? [atespace] : [], output);
    }
    case 'get actor': {
      const all = parsed.flags.has('all-atespaces');
      const atespace = flag(parsed, 'atespace');
      if (args.length > 0) {
        if (all) throw new CliError('--all-atespaces cannot be used with an actor ID');
        const { actor } = await c.call<ateapi.GetActorResponse>('getActor', { actorRef: ref() });
        return printActors(actor ? [actor] : [], output);
      }
      if (all === (atespace !== undefined))
        throw new CliError('give exactly one of -a/--atespace or -A/--all-atespaces');
      const actors: ateapi.Actor[] = [];
      let pageToken = '';
      do {
        const page = await c.call<ateapi.ListActorsResponse>('listActors', {
          pageSize: 1000,
          pageToken,
          atespace: atespace ?? '',
        });
        actors.push(...page.actors);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return printActors(actors, output);
    }
    case 'get atespace': {
      if (args.length > 0) {
        const { atespace } = await c.call<ateapi.GetAtespaceResponse>('getAtespace', {
          name: oneArgument(args, 'atespace name'),
        });
        return printAtespaces(atespace ? [atespace] : [], output);
      }
      return printAtespaces(
        (await c.call<ateapi.ListAtespacesResponse>('listAtespaces', {})).atespaces,
        output,
      );
    }
    case 'get worker':
      return printWorkers((await c.call<ateapi.ListWorkersResponse>('listWorkers', {})).workers, output);
    case 'resume actor': {
      const { actor } = await c.call<ateapi.ResumeActorResponse>('resumeActor', {
        actorRef: ref(),
        boot: parsed.flags.has('boot'),
      });
      return printActors(actor ? [actor] : [], output);
    }
    case 'suspend actor': {
      const { actor } = await c.call<ateapi.SuspendActorResponse>('suspendActor', { actorRef: ref() });
      return printActors(actor ? [actor] : [], output);
    }
    case 'pause actor': {
      const { actor } = await c.call<ateapi.PauseActorResponse>('pauseActor', { actorRef: ref() });
      return printActors(actor ? [actor] : [], output);
    }
    case 'delete actor': {
      const actorRef = ref();
      await c.call('deleteActor', { actorRef });
      return `actor "${actorRef.name}" deleted\n`;
    }
    case 'delete atespace': {
      const name = oneArgument(args, 'atespace name');
      await c.call('deleteAtespace', { name });
      return `atespace "${name}" deleted\n`;
    }
    default:
      throw new CliError(
        `unknown command "${[verb, rawNoun, ...args].filter(Boolean).join(' ')}"; see kubectl ate --help`,
      );
  }
}
