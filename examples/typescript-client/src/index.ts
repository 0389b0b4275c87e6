export { ApiRequestError, OversightClient, type ApiError, type OversightClientOptions } from './client';
export * from './oversight';
