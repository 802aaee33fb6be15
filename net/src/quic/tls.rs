//! Mutual TLS bound to ed25519 identities (research/peers-limits-quic.md §3.1): each member
//! presents a self-signed certificate for its own ed25519 key, and a peer is accepted only if
//! the certificate's key is pinned in the cluster file — the one expected for that id when
//! dialling, any member's when accepting (the hello then has to name the matching id).

use std::sync::Arc;

use quorate_impl::crypto::{Ed25519SecretKey, NodeId};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

use super::config::Cluster;

/// ALPN of this wire format; a node of another version fails the handshake at once.
pub const ALPN: &[u8] = b"quorate/1";

/// PKCS#8 v1 wrapping of an ed25519 seed (RFC 8410 §7): a fixed 16-byte prefix, then the seed.
fn pkcs8_of(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

/// The server name a dialler uses for replica `id`; the verifier reads the id back from it.
pub fn server_name(id: NodeId) -> String {
    format!("node{id}")
}

fn id_from_server_name(name: &ServerName<'_>) -> Option<NodeId> {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().strip_prefix("node")?.parse().ok(),
        _ => None,
    }
}

/// A self-signed certificate for `secret`'s key and the key in rustls form.
pub fn identity(
    secret: &Ed25519SecretKey,
    id: NodeId,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), String> {
    let pkcs8 = PrivatePkcs8KeyDer::from(pkcs8_of(&secret.to_seed()));
    let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519)
        .map_err(|e| format!("cannot use the ed25519 key for TLS: {e}"))?;
    let params = rcgen::CertificateParams::new(vec![server_name(id)])
        .map_err(|e| format!("certificate parameters: {e}"))?;
    let cert = params
        .self_signed(&key_pair)
        .map_err(|e| format!("cannot self-sign the certificate: {e}"))?;
    Ok((cert.der().clone(), PrivateKeyDer::Pkcs8(pkcs8)))
}

/// The ed25519 key a certificate carries (its SubjectPublicKeyInfo), if it is one.
pub fn cert_key(cert: &CertificateDer<'_>) -> Option<[u8; 32]> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let spki = parsed.public_key();
    // 1.3.101.112 is id-Ed25519 (RFC 8410).
    if spki.algorithm.algorithm.to_id_string() != "1.3.101.112" {
        return None;
    }
    spki.subject_public_key.data.as_ref().try_into().ok()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn refused(why: String) -> Error {
    tracing::warn!(%why, "TLS peer refused");
    Error::General(why)
}

/// Checks peers against the cluster's pinned keys.
#[derive(Debug)]
pub struct PinnedPeers {
    cluster: Arc<Cluster>,
    provider: Arc<CryptoProvider>,
}

impl PinnedPeers {
    fn check_handshake(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        // Without this check anyone could replay a member's public certificate.
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

impl ServerCertVerifier for PinnedPeers {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let id = id_from_server_name(server_name)
            .ok_or_else(|| refused(format!("server name {server_name:?} names no member")))?;
        let expected = self
            .cluster
            .keyring
            .get(id)
            .ok_or_else(|| refused(format!("member {id} is not in the cluster file")))?;
        match cert_key(end_entity) {
            Some(key) if key == expected.0 => Ok(ServerCertVerified::assertion()),
            _ => Err(refused(format!(
                "replica {id} presented a key other than its pinned one"
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(refused("TLS 1.2 is not accepted".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.check_handshake(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

impl ClientCertVerifier for PinnedPeers {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        match cert_key(end_entity) {
            Some(key) if self.cluster.id_of(&key).is_some() => Ok(ClientCertVerified::assertion()),
            Some(_) => Err(refused("a key not pinned in the cluster file".into())),
            None => Err(refused("a certificate without an ed25519 key".into())),
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(refused("TLS 1.2 is not accepted".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.check_handshake(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

/// The rustls configs of a member: a client config (always) and a server config (replicas).
pub fn configs(
    cluster: Arc<Cluster>,
    secret: &Ed25519SecretKey,
    id: NodeId,
) -> Result<(rustls::ClientConfig, rustls::ServerConfig), String> {
    let (cert, key) = identity(secret, id)?;
    let pinned = Arc::new(PinnedPeers {
        cluster,
        provider: provider(),
    });
    let mut client = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| format!("TLS client config: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(pinned.clone())
        .with_client_auth_cert(vec![cert.clone()], key.clone_key())
        .map_err(|e| format!("TLS client certificate: {e}"))?;
    client.alpn_protocols = vec![ALPN.to_vec()];
    let mut server = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| format!("TLS server config: {e}"))?
        .with_client_cert_verifier(pinned)
        .with_single_cert(vec![cert], key)
        .map_err(|e| format!("TLS server certificate: {e}"))?;
    server.alpn_protocols = vec![ALPN.to_vec()];
    Ok((client, server))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorate_impl::crypto::ed25519_keypair_from_seed;

    #[test]
    fn the_certificate_carries_the_node_key() {
        let (secret, public) = ed25519_keypair_from_seed([9; 32]);
        let (cert, _) = identity(&secret, 4).unwrap();
        assert_eq!(cert_key(&cert), Some(public.0));
        assert_eq!(
            id_from_server_name(&ServerName::try_from(server_name(4)).unwrap()),
            Some(4)
        );
    }
}
