export * from './sql';
export * from './evidence';
export * from './applications';
export * from './ledger';
export * from './rules';
export * from './audit';
