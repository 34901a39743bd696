/** Wire contracts of the task platform: schemas, routing keys, topology as data. No I/O. */
export {
  DATA_PROCESS,
  DataProcessCommand,
  DataProcessPayload,
  DataRecords,
} from './commands/data-process';
export {
  checkEmailContent,
  EMAIL_SEND,
  EMAIL_TEMPLATE_NAMES,
  EMAIL_TEMPLATE_VARIABLES,
  EmailSendCommand,
  EmailSendPayload,
  type EmailTemplateName,
  type EmailTemplateVariableNames,
  EmailTemplateVariables,
  templateVariables,
  withEmailContentRules,
} from './commands/email-send';
export {
  REPORT_GENERATE,
  ReportGenerateCommand,
  ReportGeneratePayload,
} from './commands/report-generate';
export {
  checkReportParams,
  FreeReportParams,
  isKnownReportType,
  KNOWN_REPORT_TYPES,
  type KnownReportType,
  REPORT_FORMATS,
  ReportDay,
  type ReportFormat,
  ReportParamsSchemas,
  reportParamsSchema,
  withReportParamsRules,
} from './commands/report-params';
export {
  type DelayOptions,
  delayRoutingKey,
  delayUnits,
  levelPattern,
  maxDelayMs,
} from './delay-levels';
export {
  MAINTENANCE_CLEANUP,
  MaintenanceCleanupCommand,
  MaintenanceCleanupPayload,
} from './commands/maintenance-cleanup';
export { CommandEnvelope, SCHEMA_VERSION, WorkflowRef } from './envelope';
export { isPlatformTaskId, TASK_ID_PATTERN, TaskId } from './task-id';
export {
  ControlMessage,
  DrainControl,
  RevokeControl,
  ServiceControl,
  StateEvent,
  StateEventMessage,
  TaskProgress,
  TaskRef,
  WorkerHeartbeat,
  WorkerOffline,
} from './events';
export { boundedRecord, COLLECTION_LIMITS } from './limits';
export {
  ActiveTasksResponse,
  CancelResponse,
  DeadLetterListResponse,
  DeadLetterView,
  EmailTaskRequest,
  ErrorResponse,
  HealthResponse,
  MessageResponse,
  ProcessTaskRequest,
  ReplayResponse,
  ReportTaskRequest,
  RootResponse,
  TASK_OPTION_KEYS,
  TaskCreatedResponse,
  TaskOptionsShape,
  TaskStatusResponse,
  TaskListResponse,
  TaskHistoryEvent,
  TaskHistoryResponse,
  ValidationErrorResponse,
  ValidationIssue,
} from './http';
export { API_MAX_PRIORITY, BROKER_PRIORITY_LEVELS, brokerPriority } from './priority';
export {
  CatchUpPolicy,
  IntervalSpec,
  ScheduleFile,
  ScheduleListResponse,
  SchedulePatchRequest,
  ScheduleSpec,
  ScheduleView,
} from './schedules';
export {
  commandKey,
  domainOf,
  eventKey,
  WORKER_HEARTBEAT_KEY,
  WORKER_OFFLINE_KEY,
} from './routing-keys';
export {
  type EventPosition,
  isNewer,
  isTerminal,
  stateRank,
  TASK_STATES,
  TaskState,
  TERMINAL_STATES,
} from './task-state';
export {
  isServiceName,
  LABEL_COLOURS,
  SERVICE_KINDS,
  SERVICE_NAMES,
  type ServiceKind,
  ServiceManifestError,
  type ServiceName,
  SERVICES,
  serviceSpec,
  servicesOfKind,
  type ServiceSpec,
} from './services';
export {
  routingKeysOf,
  TASK_TYPES,
  type TaskApiName,
  taskTypeByRoutingKey,
  type TaskTypeSpec,
  WORKER_SERVICES,
  type WorkerServiceName,
} from './task-types';
export {
  type BindingSpec,
  buildTopology,
  DEAD_LETTER_TTL_MS,
  deadRoutingKey,
  type ExchangeSpec,
  type QueueSpec,
  type Topology,
  type TopologyOptions,
  TopologyNames,
  QUORUM_REPLICAS,
  type WorkQueueType,
} from './topology';
export {
  HIGH_LANE_MIN_PRIORITY,
  HIGH_LANE_SUFFIX,
  isHighLaneKey,
  laneOf,
  laneRoutingKey,
  type WorkLane,
} from './work-lanes';
export {
  ConcurrencyRequest,
  DEFAULT_SERVICE_CONTROL,
  DrainResponse,
  MAX_WORKER_CONCURRENCY,
  ServiceControlResponse,
  ServiceControlState,
  ServiceControlView,
  WORKER_ACTIONS,
  WorkerAction,
  WorkerActionRecord,
  WorkersResponse,
  WorkerView,
} from './workers';
export {
  parseWorkflowRequest,
  WORKFLOW_TASKS,
  WorkflowCancelResponse,
  WorkflowCreatedResponse,
  type WorkflowLimits,
  type WorkflowNode,
  WorkflowRequest,
  WorkflowState,
  WorkflowStatusResponse,
  type WorkflowStepNode,
  WorkflowStepView,
  type WorkflowTask,
  type WorkflowTree,
} from './workflows';
