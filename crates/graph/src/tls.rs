//! TLS setup. kube and reqwest both use rustls; exactly one crypto provider must be installed
//! per process before the first client is built, or client construction panics. sessionops
//! uses ring (kube's choice), installed once here.

/// Installs ring as the process-wide rustls crypto provider (a no-op if one is installed).
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
