//! Fix steps: the command that confirms a problem, the change that fixes
//! it, and the command that verifies afterwards. Every value interpolated
//! into a command goes through [`crate::util::shell::quote`].

use crate::report::finding::{Code, FixStep};
use crate::util::shell::quote;

/// What the commands need to know about the target.
#[derive(Debug, Clone)]
pub struct FixContext {
    /// `host:port` (IPv6 in brackets) or, with `--resolve`, `addr:port`.
    pub connect: String,
    /// The name checked against the certificate (DNS name or IP).
    pub name: String,
    pub name_is_ip: bool,
    /// A file-name-friendly stem derived from the name.
    pub stem: String,
    /// The CA file the chain was judged against, passed to OpenSSL's
    /// verification commands so they judge the same way.
    pub ca_file: Option<String>,
    /// The certificate file the chain was read from (`certscope inspect`):
    /// commands then read that file instead of connecting.
    pub file: Option<String>,
    /// The private key file checked against the leaf (`inspect --key`).
    pub key_file: Option<String>,
    /// The STARTTLS protocol, passed to `openssl s_client -starttls`.
    pub starttls: Option<crate::target::Proto>,
    /// Commands check the name (false for a file read without `--name`).
    pub check_name: bool,
    /// `file` is PEM (else DER, which `openssl crl2pkcs7` cannot read).
    pub file_pem: bool,
    /// The leaf's position in `file` (0-based): `openssl x509 -in FILE`
    /// reads the first certificate, so another position needs extracting.
    pub leaf_in_file: usize,
}

impl FixContext {
    pub fn new(connect: String, name: String) -> FixContext {
        let name_is_ip = name.parse::<std::net::IpAddr>().is_ok();
        let stem = file_stem(&name);
        FixContext {
            connect,
            name,
            name_is_ip,
            stem,
            ca_file: None,
            file: None,
            key_file: None,
            starttls: None,
            check_name: true,
            file_pem: true,
            leaf_in_file: 0,
        }
    }

    /// `-verify_hostname NAME` / `-verify_ip ADDR`, or nothing when no name
    /// is to be checked.
    fn verify_name(&self) -> String {
        if !self.check_name {
            String::new()
        } else if self.name_is_ip {
            format!(" -verify_ip {}", quote(&self.name))
        } else {
            format!(" -verify_hostname {}", quote(&self.name))
        }
    }

    /// `openssl s_client` options after `-connect`: the SNI name and, for
    /// STARTTLS targets, the protocol (certscope's names are s_client's).
    fn servername(&self) -> String {
        let mut s = String::new();
        if !self.name_is_ip {
            s.push_str(&format!(" -servername {}", quote(&self.name)));
        }
        if let Some(p) = self.starttls {
            s.push_str(&format!(" -starttls {}", p.name()));
        }
        s
    }

    /// The `openssl s_client` line that reproduces the problem: it verifies
    /// the chain and the name and stops on the first error.
    pub fn reproduce(&self) -> String {
        if let Some(file) = &self.file {
            let ca = match &self.ca_file {
                Some(f) => format!(" -CAfile {}", quote(f)),
                None => String::new(),
            };
            let check = self.verify_name();
            return format!(
                "openssl verify{ca} -untrusted {f}{check} {f}",
                f = quote(file)
            );
        }
        let check = self.verify_name();
        let ca = match &self.ca_file {
            Some(f) => format!(" -CAfile {}", quote(f)),
            None => String::new(),
        };
        format!(
            "openssl s_client -connect {}{}{}{ca} -verify_return_error -brief </dev/null",
            quote(&self.connect),
            self.servername(),
            check
        )
    }

    /// "the file holds" for a chain read from a file, else "the server sends".
    fn sends(&self) -> &'static str {
        if self.file.is_some() {
            "the file holds"
        } else {
            "the server sends"
        }
    }

    /// "Confirm the dates the server presents" / "... in the file".
    fn confirm_dates(&self) -> FixStep {
        let title = if self.file.is_some() {
            "Confirm the dates of the leaf in the file"
        } else {
            "Confirm the dates the server presents"
        };
        FixStep::cmd(title, self.show_dates())
    }

    /// Every certificate of the chain as text, piped to `grep GREP`
    /// (`grep` is its arguments, already quoted).
    fn chain_text(&self, grep: &str) -> String {
        match &self.file {
            Some(file) if self.file_pem => format!(
                "openssl crl2pkcs7 -nocrl -certfile {} | openssl pkcs7 -print_certs -text -noout | grep {grep}",
                quote(file),
            ),
            Some(file) => format!(
                "openssl x509 -in {} -noout -text | grep {grep}",
                quote(file)
            ),
            None => format!(
                "openssl s_client -connect {}{} -showcerts </dev/null 2>/dev/null | openssl crl2pkcs7 -nocrl -certfile /dev/stdin | openssl pkcs7 -print_certs -text -noout | grep {grep}",
                quote(&self.connect),
                self.servername(),
            ),
        }
    }

    /// Show every certificate the server sends.
    pub fn show_chain(&self) -> String {
        if let Some(file) = &self.file
            && !self.file_pem
        {
            return format!("openssl x509 -in {} -noout -subject -issuer", quote(file));
        }
        if let Some(file) = &self.file {
            return format!(
                "openssl crl2pkcs7 -nocrl -certfile {} | openssl pkcs7 -print_certs -noout",
                quote(file)
            );
        }
        format!(
            "openssl s_client -connect {}{} -showcerts </dev/null 2>/dev/null | grep -E '^ *[0-9]+ s:|^ *i:'",
            quote(&self.connect),
            self.servername()
        )
    }

    /// Print the served leaf's dates.
    pub fn show_dates(&self) -> String {
        format!("{} -noout -subject -dates", self.leaf_x509())
    }

    /// `openssl x509` reading the served leaf (or the file's first
    /// certificate); options are appended by the caller.
    pub fn leaf_x509(&self) -> String {
        match &self.file {
            Some(file) => format!("openssl x509 -in {}", quote(file)),
            None => format!(
                "openssl s_client -connect {}{} </dev/null 2>/dev/null | openssl x509",
                quote(&self.connect),
                self.servername()
            ),
        }
    }

    fn csr(&self, extra: &str) -> String {
        let san = if self.name_is_ip {
            format!("subjectAltName=IP:{}", self.name)
        } else {
            format!("subjectAltName=DNS:{}", self.name)
        };
        format!(
            "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {} -out {} -subj {} -addext {}{}",
            quote(&format!("{}.key", self.stem)),
            quote(&format!("{}.csr", self.stem)),
            quote(&format!("/CN={}", self.name)),
            quote(&san),
            extra
        )
    }
}

fn reload() -> FixStep {
    FixStep::cmd(
        "Reload the server so it serves the new files (nginx shown; apachectl graceful, systemctl reload haproxy, caddy reload)",
        "sudo systemctl reload nginx",
    )
}

fn verify(ctx: &FixContext) -> FixStep {
    let title = match &ctx.file {
        Some(f) => format!("Verify afterwards: this must print '{f}: OK'"),
        None => "Verify afterwards: this must print 'Verification: OK'".to_string(),
    };
    FixStep::cmd(title, ctx.reproduce())
}

/// How each address of `ctx.name` presents its leaf: a loop to compare.
pub fn endpoints_steps(ctx: &FixContext, addrs: &[String], port: u16) -> Vec<FixStep> {
    let list: Vec<String> = addrs.iter().map(|a| quote(a)).collect();
    vec![
        FixStep::note(
            "Deploy the same certificate and chain on every node behind this name, and reload each (or take the odd one out of the rotation)",
        ),
        FixStep::cmd(
            "Compare what each address serves (every line must show the same fingerprint)",
            format!(
                "for a in {}; do printf '%s ' \"$a\"; openssl s_client -connect \"$a:{port}\"{} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 -enddate; done",
                list.join(" "),
                ctx.servername()
            ),
        ),
    ]
}

/// The deployed file differs from the served certificate. `disk_newer`:
/// the file holds the newer one (the server was not reloaded); otherwise
/// the server's is newer (the deployment missed this copy).
pub fn disk_steps(ctx: &FixContext, file: &str, disk_newer: bool) -> Vec<FixStep> {
    let compare = FixStep::cmd(
        "Compare the served certificate with the file (the two fingerprints must match)",
        format!(
            "openssl s_client -connect {}{} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 -enddate; openssl x509 -in {} -noout -fingerprint -sha256 -enddate",
            quote(&ctx.connect),
            ctx.servername(),
            quote(file)
        ),
    );
    if disk_newer {
        vec![
            FixStep::cmd(
                "Reload nginx so it reads the renewed file",
                "sudo systemctl reload nginx",
            ),
            FixStep::cmd("…or Apache", "sudo apachectl -k graceful"),
            FixStep::cmd("…or HAProxy", "sudo systemctl reload haproxy"),
            FixStep::cmd("…or Caddy", "caddy reload --config /etc/caddy/Caddyfile"),
            FixStep::note(
                "Make renewals reload the server: certbot renew --deploy-hook 'systemctl reload nginx'",
            ),
            compare,
        ]
    } else {
        vec![
            FixStep::note(format!(
                "The server serves a newer certificate than {file}: the deployment missed this copy, or the server reads another file. Find the file in the server's configuration (ssl_certificate, SSLCertificateFile, crt) and copy the current certificate here"
            )),
            compare,
        ]
    }
}

/// The deployed key does not match the served leaf (network form).
pub fn key_steps(ctx: &FixContext, key: &str) -> Vec<FixStep> {
    vec![
        FixStep::cmd(
            "Hash the served certificate's public key and the key file's (they must match)",
            format!(
                "openssl s_client -connect {}{} </dev/null 2>/dev/null | openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl sha256; openssl pkey -in {} -pubout -outform DER | openssl sha256",
                quote(&ctx.connect),
                ctx.servername(),
                quote(key)
            ),
        ),
        FixStep::note(
            "Deploy the key that belongs to the served certificate (or the certificate that belongs to this key), then reload the server",
        ),
    ]
}

/// The server's answer without SNI differs from its answer with it.
pub fn sni_steps(ctx: &FixContext) -> Vec<FixStep> {
    vec![
        FixStep::cmd(
            "See what a client without SNI gets",
            format!(
                "openssl s_client -connect {} -noservername </dev/null 2>/dev/null | openssl x509 -noout -subject -ext subjectAltName",
                quote(&ctx.connect)
            ),
        ),
        FixStep::note(
            "If old clients or monitoring by IP matter, make this site the server's default (nginx: listen 443 ssl default_server; Apache: its vhost first)",
        ),
    ]
}

/// Fix steps for a finding. `detail` carries code-specific facts, such as an
/// AIA URL or the number of a certificate in the chain.
pub fn steps(code: Code, ctx: &FixContext, facts: &Facts) -> Vec<FixStep> {
    use Code::*;
    let certbot_renew = FixStep::cmd(
        match &facts.renew_before {
            Some(d) => {
                format!("Renew it before {d} (certbot; use your CA's renewal process otherwise)")
            }
            None => "Renew it (certbot; use your CA's renewal process otherwise)".to_string(),
        },
        format!("sudo certbot renew --cert-name {}", quote(&ctx.name)),
    );
    match code {
        InconsistentEndpoints => endpoints_steps(ctx, &[], 443),
        DiskMismatch => disk_steps(ctx, "cert.pem", true),
        SniDefaultDiffers | SniRequired => sni_steps(ctx),
        OversizedChain => vec![
            FixStep::cmd("See what the server sends", ctx.show_chain()),
            FixStep::note(
                "Serve only the leaf and the intermediates that lead to the root (nginx: ssl_certificate fullchain.pem holding just those), and split a leaf with thousands of names into several certificates",
            ),
            reload(),
            verify(ctx),
        ],
        InvalidSerial => vec![
            FixStep::cmd("See the serial numbers the server sends", ctx.show_chain().replace("grep -E '^ *[0-9]+ s:|^ *i:'", "grep -E '^ *[0-9]+ s:|^ *i:|Serial'")),
            FixStep::note(
                "Have the certificate reissued: RFC 5280 (4.1.2.2) wants a positive serial of at most 20 octets, and a CA that issues otherwise is misconfigured (with OpenSSL, use -set_serial with a positive value, or let it pick a random 16-byte one)",
            ),
            reload(),
            verify(ctx),
        ],
        Expired if facts.intermediate => vec![
            FixStep::cmd(format!("See which certificates {}", ctx.sends()), ctx.show_chain()),
            FixStep::note(match &facts.renew_before {
                Some(d) => format!("Before {d}: download the current intermediate from your CA (or renew: certbot fetches the current chain) and rebuild the chain file, leaf first"),
                None => "Download the current intermediate from your CA (or renew: certbot fetches the current chain) and rebuild the chain file, leaf first".to_string(),
            }),
            FixStep::cmd(
                "Rebuild fullchain.pem from the leaf and the current intermediate",
                "cat cert.pem intermediate.pem > fullchain.pem",
            ),
            reload(),
            verify(ctx),
        ],
        Expired | ExpiringSoon => {
            let mut v = vec![
                ctx.confirm_dates(),
                certbot_renew,
                FixStep::cmd(
                    "Without certbot: make a new key and CSR for the same name and send the CSR to your CA",
                    ctx.csr(""),
                ),
                reload(),
                verify(ctx),
            ];
            if code == ExpiringSoon {
                v.insert(
                    2,
                    FixStep::cmd(
                        "Make sure automatic renewal runs",
                        "systemctl list-timers 'certbot*'",
                    ),
                );
            }
            v
        }
        // Clients judge the dates by their own clock: the server's plays no part.
        NotYetValid if facts.starts_after_judged => vec![
            ctx.confirm_dates(),
            FixStep::note(format!(
                "Nothing is wrong today: only {}, the instant asked for with --at, lies before the certificate's start. If it must be valid by then, have it reissued with an earlier notBefore",
                facts.judged_at.as_deref().unwrap_or("the instant judged")
            )),
        ],
        NotYetValid => vec![
            ctx.confirm_dates(),
            FixStep::cmd(
                "Compare with this machine's clock: if it is behind real time, this machine (the client) is wrong, not the certificate",
                "date -u; timedatectl status",
            ),
            FixStep::cmd(
                "If this machine's clock is behind: turn on time synchronisation here (and on every client that fails the same way)",
                "sudo timedatectl set-ntp true",
            ),
            FixStep::note(
                "If the clock is right, the certificate is post-dated: have your CA reissue it with a notBefore in the past (or wait until it starts), then deploy it and reload the server",
            ),
        ],
        HostnameMismatch => vec![
            FixStep::cmd("See the names the certificate covers", format!(
                "{} -noout -ext subjectAltName",
                ctx.leaf_x509()
            )),
            if ctx.name_is_ip {
                FixStep::cmd("Request a certificate with this IP address as a subjectAltName", ctx.csr(""))
            } else {
                FixStep::cmd(
                    "Get a certificate that covers this name (certbot; add every name the server answers to with more -d options)",
                    format!("sudo certbot certonly --cert-name {} -d {}", quote(&ctx.name), quote(&ctx.name)),
                )
            },
            FixStep::note("Or point the server's configuration for this name at the certificate that covers it (nginx: the server block with the matching server_name)"),
            reload(),
            verify(ctx),
        ],
        SelfSigned => vec![
            FixStep::cmd(
                "Replace it with a CA-issued certificate (certbot shown)",
                format!("sudo certbot certonly --webroot -w /var/www/html -d {}", quote(&ctx.name)),
            ),
            FixStep::cmd(
                "Or, for an internal service, trust this exact certificate on each client (Debian/Ubuntu)",
                format!(
                    "{} > {} && sudo cp {} /usr/local/share/ca-certificates/ && sudo update-ca-certificates",
                    ctx.leaf_x509(),
                    quote(&format!("{}.crt", ctx.stem)),
                    quote(&format!("{}.crt", ctx.stem))
                ),
            ),
            verify(ctx),
        ],
        UntrustedRoot => vec![
            FixStep::cmd(format!("See the chain {} and the root it ends in", ctx.sends()), ctx.show_chain()),
            FixStep::note("Use a certificate from a publicly trusted CA, or, for a private CA, install its root on every client:"),
            FixStep::cmd(
                "Install the private root into the OS store (Debian/Ubuntu; the file is the root CA certificate in PEM)",
                "sudo cp private-root-ca.pem /usr/local/share/ca-certificates/private-root-ca.crt && sudo update-ca-certificates",
            ),
            FixStep::cmd(
                "Check against that root without installing it",
                format!(
                    "certscope check --trust-store none --ca-file private-root-ca.pem {}",
                    quote(&ctx.connect)
                ),
            ),
        ],
        IncompleteChain => {
            let mut v = vec![FixStep::cmd(
                format!("Confirm: {} too few certificates", ctx.sends()),
                ctx.show_chain(),
            )];
            if let Some(url) = &facts.aia_url {
                v.push(FixStep::cmd(
                    "Download the missing intermediate named in the leaf's AIA caIssuers URL",
                    format!(
                        "curl -fsSL {} -o intermediate.der && (openssl x509 -inform DER -in intermediate.der -out intermediate.pem 2>/dev/null || openssl x509 -in intermediate.der -out intermediate.pem)",
                        quote(url)
                    ),
                ));
            } else {
                v.push(FixStep::note("Download the intermediate certificate from your CA's site (the leaf names no AIA caIssuers URL)"));
            }
            v.extend([
                FixStep::cmd("Build fullchain.pem: the leaf first, then the intermediate", "cat cert.pem intermediate.pem > fullchain.pem"),
                FixStep::note(
                    "Serve the full chain: nginx `ssl_certificate /path/fullchain.pem;` · Apache 2.4.8+ `SSLCertificateFile /path/fullchain.pem` · HAProxy: `crt` a PEM with the leaf, the intermediate and the key · Caddy serves full chains itself",
                ),
                reload(),
                verify(ctx),
            ]);
            v
        }
        ChainOrder if ctx.file.is_some() => vec![
            FixStep::cmd("See the order inside the file", ctx.show_chain()),
            FixStep::cmd(
                "Rebuild the file in order: the leaf first, then each issuer, and nothing unrelated",
                "cat leaf.pem intermediate.pem > fullchain.pem",
            ),
            FixStep::cmd(
                "Check the rebuilt file: the first subject is the leaf, each issuer is the next subject",
                "openssl crl2pkcs7 -nocrl -certfile fullchain.pem | openssl pkcs7 -print_certs -noout",
            ),
            FixStep::note("Point the server at the rebuilt file and reload it"),
        ],
        ChainOrder => vec![
            FixStep::cmd("See the order the server sends", ctx.show_chain()),
            FixStep::cmd(
                "Rebuild the chain file in order: the leaf first, then each issuer, and nothing unrelated",
                "cat cert.pem intermediate.pem > fullchain.pem",
            ),
            reload(),
            verify(ctx),
        ],
        RootSent => vec![
            FixStep::cmd(format!("See what {}: the last certificate is the root", ctx.sends()), ctx.show_chain()),
            FixStep::note("Optional: drop the root certificate from the chain file; clients use their own copy"),
        ],
        WeakSignature => vec![
            if ctx.file.is_some() {
                FixStep::cmd(
                    "See the signature algorithm of each certificate in the file",
                    ctx.chain_text("-E 'Subject:|Signature Algorithm'"),
                )
            } else {
                FixStep::cmd("See the signature algorithms in the served chain", format!(
                    "openssl s_client -connect {}{} -showcerts </dev/null 2>/dev/null | grep -E 'sigalg|s:'",
                    quote(&ctx.connect),
                    ctx.servername()
                ))
            },
            FixStep::note("Get a SHA-256 chain from your CA: reissue the certificate and use the CA's current intermediate"),
            reload(),
            verify(ctx),
        ],
        WeakKey => vec![
            FixStep::cmd("Make a new, strong key (EC P-256) and a CSR for it, and have it issued", ctx.csr("")),
            FixStep::cmd(
                "Or with certbot",
                format!("sudo certbot renew --force-renewal --key-type ecdsa --cert-name {}", quote(&ctx.name)),
            ),
            reload(),
            verify(ctx),
        ],
        InvalidPurpose => vec![
            FixStep::cmd(
                "Request a certificate for TLS servers (extendedKeyUsage serverAuth, keyUsage digitalSignature)",
                ctx.csr(" -addext 'extendedKeyUsage=serverAuth' -addext 'keyUsage=critical,digitalSignature'"),
            ),
            reload(),
            verify(ctx),
        ],
        CaAsLeaf => vec![
            FixStep::note(if ctx.file.is_some() {
                "Put an end-entity certificate issued by that CA first in the file, not the CA certificate itself"
            } else {
                "Serve an end-entity certificate issued by that CA, not the CA certificate itself"
            }),
            FixStep::cmd(
                "Request one with basicConstraints CA:FALSE",
                ctx.csr(" -addext 'basicConstraints=critical,CA:FALSE'"),
            ),
            reload(),
            verify(ctx),
        ],
        KeyMismatch => {
            let cert = ctx.file.as_deref().unwrap_or("cert.pem");
            let key = ctx.key_file.as_deref().unwrap_or("key.pem");
            // `openssl x509 -in FILE` reads the first certificate: a leaf
            // elsewhere in a PEM file is cut out first.
            let hash_cert = if ctx.leaf_in_file != 0 && ctx.file_pem {
                format!(
                    "awk '/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/{{n++; p=(n=={})}} p{{print}} /-----END (X509 |TRUSTED )?CERTIFICATE-----/{{p=0}}' {} | openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl sha256",
                    ctx.leaf_in_file + 1,
                    quote(cert)
                )
            } else {
                format!(
                    "openssl x509 -noout -pubkey -in {} | openssl pkey -pubin -outform DER | openssl sha256",
                    quote(cert)
                )
            };
            vec![
                FixStep::cmd("Hash the certificate's public key", hash_cert),
                FixStep::cmd(
                    "Hash the private key's public half: it must print the same hash",
                    format!(
                        "openssl pkey -pubout -outform DER -in {} | openssl sha256",
                        quote(key)
                    ),
                ),
                FixStep::note(
                    "Find the key the certificate was issued for (the one its CSR was made with), or have the certificate reissued for this key",
                ),
            ]
        }
        IssuerNotCa | PathLength => vec![
            FixStep::cmd(
                "See each certificate's basicConstraints and keyUsage",
                ctx.chain_text("-A2 'Basic Constraints\\|Key Usage'"),
            ),
            FixStep::note(if ctx.file.is_some() {
                "Replace that certificate in the file with the CA's real intermediate (the one the CA's documentation names for this leaf), or have the leaf reissued by a CA certificate allowed to issue it"
            } else {
                "Serve the CA's real intermediate instead of that certificate (the one the CA's documentation names for this leaf), or have the leaf reissued by a CA certificate allowed to issue it"
            }),
            reload(),
            verify(ctx),
        ],
        UnknownCriticalExtension => vec![
            FixStep::cmd(
                "See the certificates' extensions (a critical one shows 'critical')",
                ctx.chain_text("-B1 -A2 critical"),
            ),
            FixStep::note("Have the certificate reissued without that extension, or with it marked non-critical: clients refuse a certificate with a critical extension they do not understand"),
            reload(),
            verify(ctx),
        ],
        NameConstraints => vec![
            FixStep::cmd(
                "See the intermediates' name constraints",
                ctx.chain_text("-A3 'Name Constraints'"),
            ),
            FixStep::note("Get the certificate from a CA whose constraints permit this name, or have the CA's constraints extended"),
        ],
        LongValidity => {
            let max = facts.max_days.unwrap_or(398);
            vec![
                FixStep::note(format!("Reissue with a lifetime of at most {max} days, the CA/Browser Forum limit for certificates issued now (public CAs issue at most that; Apple refuses more than 825 days)")),
                FixStep::cmd(
                    "For a private CA signing with OpenSSL",
                    format!("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -days {} -copy_extensions copy -out server.pem", (max - 1).max(1)),
                ),
            ]
        }
        NoSct => vec![
            FixStep::cmd(
                if ctx.file.is_some() {
                    "Confirm the leaf in the file carries no SCT list"
                } else {
                    "Confirm the served certificate carries no SCT list"
                },
                format!("{} -noout -ext ct_precert_scts", ctx.leaf_x509()),
            ),
            FixStep::note("Reissue from a CA that logs to Certificate Transparency and embeds SCTs (every public CA does today)"),
        ],
        VerificationFailed => vec![
            FixStep::cmd("Reproduce with OpenSSL", ctx.reproduce()),
            FixStep::note("Rebuild the chain file from the certificates your CA delivered, leaf first"),
        ],
        Unreachable => vec![FixStep::cmd(
            "Check the name resolves and the port answers",
            format!("getent hosts {} ; nc -vz -w 5 {}", quote(&ctx.name), nc_args(&ctx.connect)),
        )],
        Timeout => vec![
            FixStep::cmd("Check that the port answers at all", format!("nc -vz -w 5 {}", nc_args(&ctx.connect))),
            FixStep::note("Check firewalls and that the service listens on this port; raise --timeout for slow links"),
        ],
        NotTls => vec![
            FixStep::cmd("See what the port speaks", format!("printf 'HEAD / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {} | head -n 3", nc_args(&ctx.connect))),
            FixStep::note("Use the TLS port of this service (443 for HTTPS), or --starttls PROTO for protocols that upgrade in plaintext"),
        ],
        ProtocolUnsupported => vec![
            FixStep::note("Enable TLS 1.2 and TLS 1.3 on the server (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`)"),
            FixStep::cmd("Confirm which versions the server speaks", format!("openssl s_client -connect {}{} -tls1_2 </dev/null", quote(&ctx.connect), ctx.servername())),
        ],
        StarttlsFailed => vec![
            FixStep::cmd("See what the server offers (SMTP shown)", format!(
                "openssl s_client -connect {}{} </dev/null",
                quote(&ctx.connect),
                if ctx.starttls.is_some() { ctx.servername() } else { format!("{} -starttls smtp", ctx.servername()) }
            )),
            FixStep::note("Enable STARTTLS on the server, or use the implicit-TLS port"),
        ],
        HandshakeFailed => vec![FixStep::cmd("Reproduce with OpenSSL to see the alert", ctx.reproduce())],
        Revoked => vec![
            FixStep::note("Replace the certificate: a revoked certificate cannot be un-revoked. Make a new key and have a new certificate issued"),
            FixStep::cmd("A new key and CSR for the same name", ctx.csr("")),
            FixStep::cmd("Or with certbot (a new key)", format!("sudo certbot certonly --force-renewal --cert-name {} -d {}", quote(&ctx.name), quote(&ctx.name))),
            reload(),
            verify(ctx),
        ],
        RevocationUnknown => vec![
            FixStep::cmd("See the revocation locations the certificate names", format!(
                "openssl s_client -connect {}{} </dev/null 2>/dev/null | openssl x509 -noout -ocsp_uri -ext crlDistributionPoints",
                quote(&ctx.connect),
                ctx.servername()
            )),
            FixStep::note("Check that this machine may reach those URLs (proxy, firewall); if they are down, tell the CA"),
        ],
        MustStapleMissing => vec![
            FixStep::note("Turn on OCSP stapling: nginx `ssl_stapling on; ssl_stapling_verify on; resolver 127.0.0.53;` · Apache `SSLUseStapling on` with `SSLStaplingCache` · HAProxy: an .ocsp file next to the certificate"),
            reload(),
            FixStep::cmd("Check that a response is stapled", format!(
                "openssl s_client -connect {}{} -status </dev/null 2>/dev/null | grep -A3 'OCSP Response Status'",
                quote(&ctx.connect),
                ctx.servername()
            )),
        ],
        AiaFetchFailed => vec![
            FixStep::cmd("See what the AIA URL serves", match &facts.aia_url {
                Some(u) => format!("curl -sS -D - -o /dev/null {}", quote(u)),
                None => "echo 'no AIA caIssuers URL'".to_string(),
            }),
            FixStep::note("Serve the intermediate from the server instead (see incomplete-chain), and tell the CA its AIA URL is broken"),
        ],
        OcspStapled => vec![FixStep::cmd("See the stapled response", format!(
            "openssl s_client -connect {}{} -status </dev/null 2>/dev/null | sed -n '/OCSP response:/,/^---/p'",
            quote(&ctx.connect),
            ctx.servername()
        ))],
    }
}

/// A file-name-friendly form of a host name (`a.test` stays, `::1` → `__1`).
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `host port` for nc, from `host:port` / `[v6]:port`, both quoted.
fn nc_args(connect: &str) -> String {
    match connect.rsplit_once(':') {
        Some((h, p)) => format!("{} {}", quote(h.trim_matches(['[', ']'])), quote(p)),
        None => quote(connect),
    }
}

/// Code-specific facts for [`steps`].
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The problem is on an intermediate, not on the leaf.
    pub intermediate: bool,
    /// The AIA caIssuers URL of the certificate whose issuer is missing.
    pub aia_url: Option<String>,
    /// The instant judged, when it is not the time of the check (`--at`).
    pub judged_at: Option<String>,
    /// The certificate is still valid when checked: renewing before this
    /// day (its notAfter) avoids the problem found at `judged_at`.
    pub renew_before: Option<String>,
    /// not-yet-valid only at `judged_at`: when checked it is valid.
    pub starts_after_judged: bool,
    /// long-validity: the most days a certificate issued now may be valid
    /// (the CA/B Forum limit in force at the instant judged).
    pub max_days: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_quoted() {
        let ctx = FixContext::new("a.test:443".into(), "a.test".into());
        let f = Facts {
            aia_url: Some("http://x.test/a;rm -rf ~".into()),
            ..Facts::default()
        };
        let steps = steps(Code::IncompleteChain, &ctx, &f);
        let cmd = steps[1].command.as_deref().unwrap();
        assert!(cmd.contains("'http://x.test/a;rm -rf ~'"), "{cmd}");
    }

    #[test]
    fn every_code_has_a_step_with_a_command() {
        let ctx = FixContext::new("[::1]:8443".into(), "::1".into());
        for code in Code::ALL {
            let s = steps(*code, &ctx, &Facts::default());
            assert!(
                s.iter().any(|x| x.command.is_some()),
                "{code} has no command"
            );
        }
        assert!(ctx.reproduce().contains("-verify_ip ::1"));
        assert!(!ctx.reproduce().contains("-servername"));
    }
}
