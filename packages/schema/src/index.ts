export * from './measurement.ts';
export * from './api.ts';
export * from './ws.ts';
export * from './alert.ts';
