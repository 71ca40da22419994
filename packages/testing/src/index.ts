export * from './infra';
export * from './kafka';
export * from './faults/tcp-proxy';
export * from './faults/process';
