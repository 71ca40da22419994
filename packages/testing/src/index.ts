export * from './infra';
export * from './kafka';
