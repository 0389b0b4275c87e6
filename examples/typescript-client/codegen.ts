// graphql-codegen: the operations in src/operations, checked against the API's committed
// SDL (the repository's schema.graphql, the file the server is held to), become typed
// documents in src/generated/ (not committed: `npm run codegen` makes them).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/operations/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Documents as plain strings with their types attached: what fetch and graphql-ws
        // send, with no GraphQL parser in the bundle.
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        // The API's scalars as they travel in JSON (ISO dates, decimals as strings).
        scalars: {
          Date: 'string',
          DateTime: 'string',
          Decimal: 'string',
          JSON: 'unknown',
        },
        defaultScalarType: 'unknown',
      },
    },
  },
};

export default config;
