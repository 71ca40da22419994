export * from './definition';
export * from './schema';
export * from './start';
export * from './main';
