/** The assignment sweeper's public surface: one per namespace, started by every worker. */
export const ASSIGNMENT_SWEEPER_WORKFLOW_TYPE = 'assignmentSweeperWorkflow';
export const ASSIGNMENT_SWEEPER_WORKFLOW_ID = 'assignment-sweeper';
