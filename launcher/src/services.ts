/**
 * The services the launcher knows, in the order it starts them: those of the service manifest
 * (contracts/src/services.json), which also says why that order.
 */
export { isServiceName, SERVICE_NAMES, type ServiceName } from '@tasks/contracts';
