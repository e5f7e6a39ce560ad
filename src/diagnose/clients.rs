//! What real clients show for each finding code (findings.md, "Chrome /
//! Firefox" and "OpenSSL / curl say" columns).

use crate::report::finding::{Clients, Code};

fn c(chrome: &str, firefox: &str, openssl: &str) -> Clients {
    Clients {
        chrome: chrome.into(),
        firefox: firefox.into(),
        openssl: openssl.into(),
    }
}

/// Client messages for a connection finding: where the step tells which
/// of the catalog's alternatives applies, only that one.
pub fn connection_clients(code: Code, step: &str) -> Clients {
    match (code, step) {
        (Code::Unreachable, "resolve") => c(
            "ERR_NAME_NOT_RESOLVED",
            "Hmm. We're having trouble finding that site.",
            "Name or service not known",
        ),
        (Code::Unreachable, "connect") => c(
            "ERR_CONNECTION_REFUSED",
            "Unable to connect",
            "connect: Connection refused",
        ),
        _ => clients(code, false),
    }
}

/// Client messages for `code`. `intermediate` selects the wording for a
/// problem on an intermediate rather than the leaf where clients differ.
pub fn clients(code: Code, intermediate: bool) -> Clients {
    use Code::*;
    match code {
        Expired if intermediate => c(
            "NET::ERR_CERT_DATE_INVALID",
            "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE",
            "certificate has expired (verify error 10, at depth 1 or more)",
        ),
        Expired => c(
            "NET::ERR_CERT_DATE_INVALID",
            "SEC_ERROR_EXPIRED_CERTIFICATE",
            "certificate has expired (verify error 10)",
        ),
        NotYetValid => c(
            "NET::ERR_CERT_DATE_INVALID",
            "MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE",
            "certificate is not yet valid (verify error 9)",
        ),
        ExpiringSoon => c("nothing yet", "nothing yet", "nothing yet"),
        HostnameMismatch => c(
            "NET::ERR_CERT_COMMON_NAME_INVALID",
            "SSL_ERROR_BAD_CERT_DOMAIN",
            "hostname mismatch (verify error 62); curl: no alternative certificate subject name matches target host name",
        ),
        SelfSigned => c(
            "NET::ERR_CERT_AUTHORITY_INVALID",
            "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT",
            "self-signed certificate (verify error 18)",
        ),
        UntrustedRoot => c(
            "NET::ERR_CERT_AUTHORITY_INVALID",
            "SEC_ERROR_UNKNOWN_ISSUER",
            "self-signed certificate in certificate chain (19) / unable to get local issuer certificate (20)",
        ),
        IncompleteChain => c(
            "often nothing: Chrome and Safari fetch the missing intermediate (AIA) themselves",
            "SEC_ERROR_UNKNOWN_ISSUER unless the intermediate is preloaded",
            "unable to verify the first certificate (verify error 21); curl, Python, Java, Go and Android apps fail",
        ),
        ChainOrder => c(
            "nothing (tolerated)",
            "nothing (tolerated)",
            "nothing; older clients fail",
        ),
        RootSent => c("nothing", "nothing", "nothing"),
        Revoked => c(
            "NET::ERR_CERT_REVOKED",
            "SEC_ERROR_REVOKED_CERTIFICATE",
            "certificate revoked (verify error 23)",
        ),
        RevocationUnknown => c("nothing", "nothing", "nothing"),
        AiaFetchFailed => c(
            "the AIA fetch fails too: NET::ERR_CERT_AUTHORITY_INVALID",
            "SEC_ERROR_UNKNOWN_ISSUER",
            "unable to get local issuer certificate (verify error 20)",
        ),
        OcspStapled => c(
            "nothing",
            "nothing",
            "nothing (openssl s_client -status prints it)",
        ),
        MustStapleMissing => c(
            "nothing",
            "MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING",
            "nothing",
        ),
        WeakSignature => c(
            "NET::ERR_CERT_WEAK_SIGNATURE_ALGORITHM",
            "SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED",
            "CA signature digest algorithm too weak",
        ),
        WeakKey => c(
            "NET::ERR_CERT_WEAK_KEY",
            "MOZILLA_PKIX_ERROR_INADEQUATE_KEY_SIZE",
            "EE certificate key too weak / CA certificate key too weak",
        ),
        InvalidPurpose => c(
            "NET::ERR_CERT_INVALID",
            "SEC_ERROR_INADEQUATE_CERT_TYPE",
            "unsupported certificate purpose (verify error 26)",
        ),
        CaAsLeaf => c(
            "NET::ERR_CERT_INVALID",
            "MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY",
            "nothing",
        ),
        InconsistentEndpoints => c(
            "depends on the address a visitor reaches: some see the site, others the problem of their node",
            "depends on the address a visitor reaches: some see the site, others the problem of their node",
            "depends on the address it connects to (curl and monitoring probe one address)",
        ),
        DiskMismatch => c(
            "the certificate the server serves, not the deployed file",
            "the certificate the server serves, not the deployed file",
            "the certificate the server serves, not the deployed file",
        ),
        SniDefaultDiffers => c(
            "nothing (browsers send SNI)",
            "nothing (browsers send SNI)",
            "the default certificate when no -servername is given; so do clients without SNI (Android 2.x, Java 6, IE on Windows XP) and some monitoring tools",
        ),
        SniRequired => c(
            "nothing (browsers send SNI)",
            "nothing (browsers send SNI)",
            "a failed handshake without -servername; so do clients without SNI (Android 2.x, Java 6, IE on Windows XP) and monitoring tools that probe by IP",
        ),
        OversizedChain => c(
            "nothing (Chrome reads large chains)",
            "nothing (Firefox reads large chains)",
            "excessive message size (OpenSSL over 100 KiB); rustls: peer sent an oversized message",
        ),
        InvalidSerial => c(
            "nothing for a negative or zero serial; a serial over 20 octets: NET::ERR_CERT_INVALID",
            "nothing for a negative or zero serial; a serial over 20 octets: SEC_ERROR_BAD_DER",
            "nothing (OpenSSL accepts it); Go programs refuse negative serials, rustls refuses serials over 20 octets",
        ),
        KeyMismatch => c(
            "nothing (the server fails to start or fails every handshake)",
            "nothing (the server fails to start or fails every handshake)",
            "key values mismatch",
        ),
        IssuerNotCa => c(
            "NET::ERR_CERT_INVALID",
            "SEC_ERROR_CA_CERT_INVALID / MOZILLA_PKIX_ERROR_INADEQUATE_KEY_USAGE",
            "invalid CA certificate (verify error 24)",
        ),
        PathLength => c(
            "NET::ERR_CERT_INVALID",
            "SEC_ERROR_PATH_LEN_CONSTRAINT_INVALID",
            "path length constraint exceeded (verify error 25)",
        ),
        UnknownCriticalExtension => c(
            "NET::ERR_CERT_INVALID",
            "SEC_ERROR_UNKNOWN_CRITICAL_EXTENSION",
            "unhandled critical extension (verify error 34)",
        ),
        NameConstraints => c(
            "NET::ERR_CERT_NAME_CONSTRAINT_VIOLATION",
            "SEC_ERROR_CERT_NOT_IN_NAME_SPACE",
            "permitted subtree violation (verify error 47)",
        ),
        LongValidity => c("NET::ERR_CERT_VALIDITY_TOO_LONG", "nothing", "nothing"),
        NoSct => c(
            "NET::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED",
            "nothing",
            "nothing",
        ),
        VerificationFailed => c(
            "NET::ERR_CERT_INVALID",
            "SEC_ERROR_BAD_SIGNATURE or a related error",
            "certificate signature failure (verify error 7) or a related error",
        ),
        Unreachable => c(
            "ERR_NAME_NOT_RESOLVED / ERR_CONNECTION_REFUSED",
            "Hmm. We're having trouble finding that site. / Unable to connect",
            "connect: Connection refused / Name or service not known",
        ),
        Timeout => c(
            "ERR_CONNECTION_TIMED_OUT",
            "The connection has timed out",
            "connect: Connection timed out",
        ),
        NotTls => c(
            "ERR_SSL_PROTOCOL_ERROR",
            "SSL_ERROR_RX_RECORD_TOO_LONG",
            "wrong version number / packet length too long",
        ),
        ProtocolUnsupported => c(
            "ERR_SSL_VERSION_OR_CIPHER_MISMATCH",
            "SSL_ERROR_UNSUPPORTED_VERSION or SSL_ERROR_NO_CYPHER_OVERLAP",
            "no protocols available / unsupported protocol / alert protocol version",
        ),
        StarttlsFailed => c(
            "nothing",
            "nothing",
            "Didn't find STARTTLS in server response",
        ),
        HandshakeFailed => c(
            "ERR_SSL_PROTOCOL_ERROR",
            "SSL_ERROR_HANDSHAKE_FAILURE_ALERT or a related error",
            "sslv3 alert handshake failure or a related alert",
        ),
    }
}
