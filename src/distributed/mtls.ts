/**
 * Mutual TLS for every link of distributed mode. A server requires a client certificate that
 * chains to one of the alliance's org CAs (OpenSSL checks the chain, validity and key usage during
 * the handshake) and then identifies the process behind it against the membership
 * (`identifyPeerCertificate`: the CA key is an org admin key of the chain configuration, the
 * process is registered with that org and role). A client presents its process certificate, trusts
 * only the alliance's CAs (no system roots), and can require the server to be a registered
 * process of a given role. TLS 1.3 only.
 */
import { readFileSync } from 'node:fs';
import { Agent, type AgentOptions, type ServerOptions } from 'node:https';
import { checkServerIdentity, createSecureContext, TLSSocket, type PeerCertificate } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SilkError, isSilkError } from '../errors.js';
import { identifyPeerCertificate, type ProcessIdentity, type ProcessRole, type ProcessTlsFiles, type TlsMembership } from './tls-pki.js';

/** The PEM texts a TLS endpoint needs: its certificate and key, and the alliance's CA bundle. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
  /** Every member org's CA certificate: the only trust anchors. */
  readonly ca: string;
}

/**
 * Reads a process's TLS files (as `writeNetworkCertificates` wrote them).
 * @throws SilkError CONFIG_INVALID naming the file that cannot be read
 */
export function readTlsCredentials(files: ProcessTlsFiles): TlsCredentials {
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `cannot read TLS file ${file}: ${(cause as Error).message} (silk network up writes them when it bootstraps a network)`, {}, { cause });
    }
  };
  return { cert: read(files.certFile), key: read(files.keyFile), ca: read(files.caFile) };
}

const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

/**
 * Options of an HTTPS server (node:https or Fastify's `https`) that requires a client certificate
 * from one of the alliance's CAs. Pair it with {@link requireMember} (Fastify) or
 * {@link identifyTlsClient} (any TLS socket) for the membership check.
 * @example const app = Fastify({ https: mtlsServerOptions(credentials) }); app.addHook('onRequest', requireMember(membership));
 */
export function mtlsServerOptions(credentials: TlsCredentials): ServerOptions {
  return { key: credentials.key, cert: credentials.cert, ca: credentials.ca, requestCert: true, rejectUnauthorized: true, ...TLS13 };
}

const identities = new WeakMap<TLSSocket, ProcessIdentity>();

/**
 * The process at the other end of a server-side TLS socket: the handshake's verdict on the chain,
 * then the membership check. Remembered per connection.
 * @throws SilkError UNTRUSTED_CERTIFICATE when the client sent no certificate, its chain failed, or it is not a registered member
 * @example const who = identifyTlsClient(request.raw.socket as TLSSocket, membership, ['orderer'])
 */
export function identifyTlsClient(socket: TLSSocket, membership: TlsMembership, roles?: readonly ProcessRole[]): ProcessIdentity {
  const known = identities.get(socket);
  if (known !== undefined && (roles === undefined || roles.includes(known.role))) return known;
  const cert = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  if (cert === undefined) throw new SilkError('UNTRUSTED_CERTIFICATE', 'this endpoint requires a client certificate issued by a member org (mutual TLS)', { reason: 'no-certificate' });
  if (!socket.authorized) throw new SilkError('UNTRUSTED_CERTIFICATE', `the client certificate was refused: ${String(socket.authorizationError)}`, { reason: 'unknown-issuer' });
  const identity = identifyPeerCertificate(cert, membership, { usage: 'client', ...(roles === undefined ? {} : { roles }) });
  identities.set(socket, identity);
  return identity;
}

/**
 * A Fastify `onRequest` hook admitting only registered member processes (of the roles given);
 * others get 403 with `{ error: { code: 'UNTRUSTED_CERTIFICATE', reason, message } }`.
 * The identity of an admitted request is {@link tlsIdentityOf}.
 * @example app.addHook('onRequest', requireMember(membership, ['peer', 'api']))
 */
export function requireMember(membership: TlsMembership, roles?: readonly ProcessRole[]): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    try {
      identifyTlsClient(tlsSocketOf(request), membership, roles);
    } catch (e) {
      if (!isSilkError(e, 'UNTRUSTED_CERTIFICATE')) throw e;
      await reply.code(e.httpStatus).send(e.toJSON());
    }
  };
}

/** The member process behind a request admitted by {@link requireMember}, if any. */
export function tlsIdentityOf(request: FastifyRequest): ProcessIdentity | undefined {
  const socket = request.raw.socket;
  return socket instanceof TLSSocket ? identities.get(socket) : undefined;
}

function tlsSocketOf(request: FastifyRequest): TLSSocket {
  const socket = request.raw.socket;
  if (!(socket instanceof TLSSocket)) throw new SilkError('UNTRUSTED_CERTIFICATE', 'this endpoint must be served over mutual TLS (see mtlsServerOptions), but the request came over plain TCP', { reason: 'no-tls' });
  return socket;
}

/** Parameters of {@link mtlsAgent}. */
export interface MtlsAgentParameters {
  readonly credentials: TlsCredentials;
  /** When given, the server must be a registered member process (of `serverRoles`, if given). */
  readonly membership?: TlsMembership;
  readonly serverRoles?: readonly ProcessRole[];
  /** Keep connections open between requests (default true). */
  readonly keepAlive?: boolean;
}

/**
 * An HTTPS agent that presents the process's certificate, trusts only the alliance's CAs, checks
 * the server's host name, and (with a membership) that the server is a registered member.
 * @example https.request({ host: '10.0.0.5', port: 7051, path: '/v1/health', agent: mtlsAgent({ credentials, membership, serverRoles: ['peer'] }) })
 */
export function mtlsAgent(params: MtlsAgentParameters): Agent {
  const { membership, serverRoles } = params;
  const options: AgentOptions = {
    // One secure context for every connection of the agent: given the certificate, key and CAs
    // instead, each new connection would parse them again.
    secureContext: createSecureContext({ cert: params.credentials.cert, key: params.credentials.key, ca: params.credentials.ca, ...TLS13 }),
    rejectUnauthorized: true,
    keepAlive: params.keepAlive ?? true,
    ...TLS13,
    checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
      const mismatch = checkServerIdentity(host, cert);
      if (mismatch !== undefined || membership === undefined) return mismatch;
      try {
        identifyPeerCertificate(new Uint8Array(cert.raw), membership, { usage: 'server', ...(serverRoles === undefined ? {} : { roles: serverRoles }) });
        return undefined;
      } catch (e) {
        return e as Error;
      }
    },
  };
  return new Agent(options);
}
