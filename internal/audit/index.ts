export { type AuditOptions, type AuditReport, auditInvariants, auditInvariantsJob } from './audit-invariants.js';
export { AUDIT_CHECKS, type AuditCheck, type Finding } from './checks.js';
