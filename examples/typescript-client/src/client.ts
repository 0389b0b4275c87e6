// The transport: queries and mutations over HTTP POST (fetch), subscriptions over
// graphql-transport-ws (graphql-ws). Every call takes a typed document generated from the
// committed SDL, so a variable of the wrong type, or a field the API does not have, is a
// compile error here rather than a runtime one.
import { createClient, type Client as WsClient } from 'graphql-ws';
import type { TypedDocumentString } from './generated/graphql';

/** An error the API answered with: its code (FORBIDDEN, BAD_USER_INPUT, ...) and rule. */
export interface ApiError {
  message: string;
  extensions?: { code?: string; rule?: string; classification?: string } & Record<string, unknown>;
}

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly ApiError[],
  ) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
    this.name = 'ApiRequestError';
  }
}

export interface OversightClientOptions {
  /** The API's GraphQL endpoint, e.g. https://oversight.example/graphql. */
  url: string;
  /** A bearer token from the authority's identity provider: it says who is acting. */
  token: string;
}

/** Variables as an argument only when the operation has some. */
type VariablesOf<TVariables> = TVariables extends Record<string, never> ? [] : [TVariables];

export class OversightClient {
  private ws: WsClient | undefined;

  constructor(private readonly options: OversightClientOptions) {}

  /** One query or mutation; rejects with the API's errors, resolves with its data. */
  async execute<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...[variables]: VariablesOf<TVariables>
  ): Promise<TResult> {
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${this.options.token}`,
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    const body = (await response.json()) as { data?: TResult | null; errors?: ApiError[] };
    if (body.errors?.length || body.data == null) {
      throw new ApiRequestError(response.status, body.errors ?? []);
    }
    return body.data;
  }

  /**
   * A subscription: `onData` gets each result as it arrives. The token travels in the
   * connection_init payload (a browser cannot set a WebSocket's headers). Returns the
   * function that ends it.
   */
  subscribe<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
    onData: (data: TResult) => void,
    onError: (error: unknown) => void = () => {},
  ): () => void {
    this.ws ??= createClient({
      url: this.options.url.replace(/^http/, 'ws'),
      connectionParams: { Authorization: `Bearer ${this.options.token}` },
    });
    return this.ws.subscribe<TResult>(
      { query: document.toString(), variables },
      {
        next: (result) => {
          if (result.errors?.length) onError(new ApiRequestError(200, result.errors));
          else if (result.data != null) onData(result.data);
        },
        error: onError,
        complete: () => {},
      },
    );
  }

  /** Closes the subscriptions' socket. */
  async close(): Promise<void> {
    await this.ws?.dispose();
    this.ws = undefined;
  }
}
