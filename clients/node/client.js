'use strict';
// A thin Node.js client of a ConvLLaVA cluster's public API (convllava.v1.ConvLlava, served by every coordinator).
// The service and its messages are loaded at run time from the repository's protos (proto/src/main/proto).

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

/** Where the .proto files live: the repository's proto module, unless CONVLLAVA_PROTO_DIR says otherwise. */
const PROTO_DIR = process.env.CONVLLAVA_PROTO_DIR
  || path.resolve(__dirname, '..', '..', 'proto', 'src', 'main', 'proto');

/** The convllava.v1 package: the ConvLlava service constructor and the message types. */
function loadApi(protoDir = PROTO_DIR) {
  const definition = protoLoader.loadSync('convllava/v1/convllava.proto', {
    includeDirs: [protoDir],
    keepCase: false, // fields in lowerCamelCase: finishReason, maxNewTokens
    longs: String,
    enums: String, // 'STOP', 'USER'
    defaults: true,
    oneofs: true, // event.event names the field that is set: 'delta' or 'final'
  });
  return grpc.loadPackageDefinition(definition).convllava.v1;
}

/**
 * Channel credentials: TLS trusting the authority whose PEM certificates caPem (a Buffer) holds, or plaintext without
 * one (a development cluster such as "convllava local").
 */
function channelCredentials(caPem) {
  return caPem ? grpc.credentials.createSsl(caPem) : grpc.credentials.createInsecure();
}

/** A channel to target (host:port), over TLS when caPem is given (see channelCredentials); close it when done. */
function openChannel(target, caPem) {
  return new grpc.Channel(target, channelCredentials(caPem), {});
}

/** A request about one image (a Buffer, or null for none): a single USER message, greedy. */
function question(prompt, image, maxNewTokens = 0) {
  return {
    messages: [{ role: 'USER', text: prompt, images: image ? [{ data: image }] : [] }],
    maxNewTokens,
  };
}

/** Calls one coordinator over a channel the caller owns (and closes). */
class ConvLlavaClient {
  /**
   * @param {grpc.Channel} channel the connection to the coordinator
   * @param {string} [token] sent as "authorization: Bearer <token>" with every call when given
   * @param {object} [api] the loaded convllava.v1 package (loadApi())
   */
  constructor(channel, token, api = loadApi()) {
    // the address and credentials are the channel's; channelOverride makes the stub use it
    this.stub = new api.ConvLlava(channel.getTarget(), grpc.credentials.createInsecure(),
      { channelOverride: channel });
    this.token = token;
  }

  /**
   * Sends request and calls onDelta(delta) for every Delta as it arrives; resolves with the Final event, or rejects
   * with the call's error (error.code is a grpc.status, error.details the server's message).
   * @param {Date|number} deadline when the whole answer must be in
   */
  generate(request, deadline, onDelta) {
    return new Promise((resolve, reject) => {
      let final = null;
      const call = this.stub.generate(request, this.metadata(), { deadline });
      call.on('data', (event) => {
        if (event.event === 'delta') {
          onDelta(event.delta);
        } else if (event.event === 'final') {
          final = event.final;
        }
      });
      call.on('error', reject);
      call.on('end', () => {
        if (final) {
          resolve(final);
        } else {
          reject(new Error('the coordinator ended the stream without a Final event'));
        }
      });
    });
  }

  /** Resolves with the models the cluster serves, the default first. */
  listModels(deadline) {
    return new Promise((resolve, reject) => {
      this.stub.listModels({}, this.metadata(), { deadline },
        (error, response) => (error ? reject(error) : resolve(response.models)));
    });
  }

  metadata() {
    const metadata = new grpc.Metadata();
    if (this.token) {
      metadata.set('authorization', `Bearer ${this.token}`);
    }
    return metadata;
  }
}

/** A status code as the gRPC specification spells it (DEADLINE_EXCEEDED). */
function codeName(code) {
  return Object.keys(grpc.status).find((name) => grpc.status[name] === code) || String(code);
}

module.exports = {
  ConvLlavaClient, PROTO_DIR, channelCredentials, codeName, loadApi, openChannel, question,
};
