import { Type } from 'typebox';

export const WindowQuery = Type.Optional(Type.String({ description: 'duration like 5m, 1h (10s to 7d)', default: '5m' }));
export const FunctionQuery = Type.Optional(Type.String({ description: 'only this function', minLength: 1 }));
