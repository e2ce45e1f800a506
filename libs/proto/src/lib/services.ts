import { ControlService, SessionIdentityService, WorkerRegistryService } from '../generated/ateapi/ateapi';
import { AteomService } from '../generated/ateom/ateom';
import { AteomHerderService } from '../generated/atelet/atelet';

/** The services of package `ateapi` keyed by fully qualified name, for {@link nestGrpcPackageDefinition}. */
export const ATEAPI_SERVICES = {
  'ateapi.Control': ControlService,
  'ateapi.SessionIdentity': SessionIdentityService,
  'ateapi.WorkerRegistry': WorkerRegistryService,
} as const;

/** The service of package `atelet` keyed by fully qualified name. */
export const ATELET_SERVICES = {
  'atelet.AteomHerder': AteomHerderService,
} as const;

/** The service of package `ateom` keyed by fully qualified name. */
export const ATEOM_SERVICES = {
  'ateom.Ateom': AteomService,
} as const;
