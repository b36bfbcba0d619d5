//! Where each AWS service is reached, as the AWS SDKs (botocore first) choose it.
//!
//! A configured endpoint, first found of: the service's own variable (`AWS_ENDPOINT_URL_STS`…),
//! `AWS_ENDPOINT_URL`, the service's `endpoint_url` in the `[services NAME]` section that the
//! profile names with `services = NAME`, the profile's `endpoint_url`; none of them when
//! `ignore_configured_endpoint_urls` is true (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` beats the
//! profile's key). Without one, the service's public endpoint for the region, in its FIPS and
//! dual-stack variants when `use_fips_endpoint`/`use_dualstack_endpoint` say so (the variables
//! beat the profile's keys); a configured endpoint drops both, as botocore does.
//!
//! Pure: a function of the environment and the profile. The SDK's endpoint rules are run only
//! for what is shown ([`ServiceEndpoint::url`]), never on the warm path.

use std::borrow::Cow;

use crate::environment::Environment;
use crate::profiles::AwsProfiles;

/// The services broker calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sts,
    Iam,
    /// The IAM Identity Center portal (role credentials).
    Sso,
    SsoOidc,
}

impl Service {
    /// The service's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Service::Sts => "STS",
            Service::Iam => "IAM",
            Service::Sso => "SSO portal",
            Service::SsoOidc => "SSO OIDC",
        }
    }

    /// The snake-cased service id: the key in a `[services]` section, and the suffix of its
    /// `AWS_ENDPOINT_URL_` variable.
    fn key(self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::Iam => "iam",
            Service::Sso => "sso",
            Service::SsoOidc => "sso_oidc",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error(
        "profile {profile} names services {section}, but the AWS config has no such \
         [services {section}] section (or it is empty)"
    )]
    NoServicesSection { profile: String, section: String },
}

/// Where one service is reached: a configured URL, or the public endpoint of the region in the
/// variant asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEndpoint {
    pub service: Service,
    /// The configured endpoint URL, if any.
    pub url: Option<String>,
    /// The FIPS variant of the public endpoint (never with a configured URL).
    pub fips: bool,
    /// The dual-stack (IPv4 and IPv6) variant of the public endpoint.
    pub dual_stack: bool,
}

impl ServiceEndpoint {
    /// The public endpoint of `service`, plain.
    pub fn public(service: Service) -> ServiceEndpoint {
        ServiceEndpoint {
            service,
            url: None,
            fips: false,
            dual_stack: false,
        }
    }

    /// What cache keys name: `-` for the plain public endpoint (so keys made before FIPS and
    /// dual-stack were known stay the same), the configured URL, else the variant.
    pub fn cache_label(&self) -> Cow<'_, str> {
        match (&self.url, self.fips, self.dual_stack) {
            (Some(url), _, _) => Cow::Borrowed(url),
            (None, false, false) => Cow::Borrowed("-"),
            (None, true, false) => Cow::Borrowed("fips"),
            (None, false, true) => Cow::Borrowed("dualstack"),
            (None, true, true) => Cow::Borrowed("fips+dualstack"),
        }
    }

    /// The URL calls go to in `region`: the configured one, else what the SDK's endpoint rules
    /// give (`https://sts-fips.eu-west-1.amazonaws.com`…), else, when the rules refuse the
    /// variant in that region, a description saying so.
    pub fn url(&self, region: &str) -> String {
        if let Some(url) = &self.url {
            return url.clone();
        }
        macro_rules! resolve {
            ($sdk:ident) => {{
                use $sdk::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
                Params::builder()
                    .region(region)
                    .use_fips(self.fips)
                    .use_dual_stack(self.dual_stack)
                    .build()
                    .ok()
                    .and_then(|params| {
                        crate::ready::now_or_never(DefaultResolver::new().resolve_endpoint(&params))
                            .and_then(Result::ok)
                            .map(|e| e.url().to_string())
                    })
            }};
        }
        let resolved = match self.service {
            Service::Sts => resolve!(aws_sdk_sts),
            Service::Iam => resolve!(aws_sdk_iam),
            Service::Sso => resolve!(aws_sdk_sso),
            Service::SsoOidc => resolve!(aws_sdk_ssooidc),
        };
        resolved.unwrap_or_else(|| {
            format!(
                "no {} endpoint for {region} ({})",
                self.service.key(),
                self.cache_label()
            )
        })
    }
}

/// Where `service` is reached for `profile` (`None`: no profile's keys apply).
pub fn resolve(
    service: Service,
    env: &Environment,
    aws: &AwsProfiles,
    profile: Option<&str>,
) -> Result<ServiceEndpoint, EndpointError> {
    let get = |key: &str| {
        profile
            .and_then(|p| aws.get(p, key))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let flag = |env: Option<bool>, key: &str| {
        env.or_else(|| get(key).map(|v| v.eq_ignore_ascii_case("true")))
            .unwrap_or(false)
    };
    let url = if flag(
        env.aws.ignore_configured_endpoint_urls,
        "ignore_configured_endpoint_urls",
    ) {
        None
    } else {
        configured(
            service,
            env,
            aws,
            profile,
            get("services"),
            get("endpoint_url"),
        )?
    };
    let public = url.is_none();
    Ok(ServiceEndpoint {
        service,
        fips: public && flag(env.aws.use_fips_endpoint, "use_fips_endpoint"),
        dual_stack: public && flag(env.aws.use_dualstack_endpoint, "use_dualstack_endpoint"),
        url,
    })
}

/// The configured endpoint, in botocore's order.
fn configured(
    service: Service,
    env: &Environment,
    aws: &AwsProfiles,
    profile: Option<&str>,
    services: Option<&str>,
    endpoint_url: Option<&str>,
) -> Result<Option<String>, EndpointError> {
    let own = match service {
        Service::Sts => &env.aws.endpoint_url_sts,
        Service::Iam => &env.aws.endpoint_url_iam,
        Service::Sso => &env.aws.endpoint_url_sso,
        Service::SsoOidc => &env.aws.endpoint_url_sso_oidc,
    };
    if let Some(url) = own.as_ref().or(env.aws.endpoint_url.as_ref()) {
        return Ok(Some(url.clone()));
    }
    if let Some(section) = services {
        if !aws.has_services_section(section) {
            return Err(EndpointError::NoServicesSection {
                profile: profile.unwrap_or_default().to_string(),
                section: section.to_string(),
            });
        }
        if let Some(url) = aws
            .services_get(section, service.key(), "endpoint_url")
            .filter(|v| !v.is_empty())
        {
            return Ok(Some(url.to_string()));
        }
    }
    Ok(endpoint_url.map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_in(
        config: &str,
        env: &[(&str, &str)],
        service: Service,
        profile: &str,
    ) -> Result<ServiceEndpoint, EndpointError> {
        let aws = AwsProfiles::from_texts(config, "").unwrap();
        resolve(service, &Environment::from_pairs(env), &aws, Some(profile))
    }

    fn url(config: &str, env: &[(&str, &str)], service: Service) -> Option<String> {
        resolve_in(config, env, service, "p").unwrap().url
    }

    #[test]
    fn the_services_own_variable_then_the_general_one_then_services_then_the_profile() {
        let config = "[profile p]\nendpoint_url = http://profile\nservices = local\n\
                      [services local]\nsts =\n  endpoint_url = http://section-sts\n\
                      sso_oidc =\n  endpoint_url = http://section-oidc\n";
        let both = [
            ("AWS_ENDPOINT_URL_STS", "http://sts"),
            ("AWS_ENDPOINT_URL", "http://all"),
        ];
        assert_eq!(url(config, &both, Service::Sts).unwrap(), "http://sts");
        assert_eq!(url(config, &both, Service::Iam).unwrap(), "http://all");
        assert_eq!(
            url(config, &[], Service::Sts).unwrap(),
            "http://section-sts"
        );
        assert_eq!(
            url(config, &[], Service::SsoOidc).unwrap(),
            "http://section-oidc"
        );
        assert_eq!(url(config, &[], Service::Sso).unwrap(), "http://profile");
        let aws = AwsProfiles::from_texts(config, "").unwrap();
        let none = resolve(Service::Sso, &Environment::from_pairs(&[]), &aws, None).unwrap();
        assert_eq!(none, ServiceEndpoint::public(Service::Sso));
    }

    #[test]
    fn ignore_configured_endpoint_urls_from_the_environment_beats_the_profile() {
        let config = "[profile p]\nendpoint_url = http://profile\n\
                      ignore_configured_endpoint_urls = true\n";
        let sts = [("AWS_ENDPOINT_URL_STS", "http://sts")];
        assert_eq!(url(config, &sts, Service::Sts), None, "the profile's key");
        let not = [
            ("AWS_ENDPOINT_URL_STS", "http://sts"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"),
        ];
        assert_eq!(url(config, &not, Service::Sts).unwrap(), "http://sts");
        let ignore = [
            ("AWS_ENDPOINT_URL_STS", "http://sts"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
        ];
        assert_eq!(url("[profile p]\n", &ignore, Service::Sts), None);
    }

    #[test]
    fn a_missing_or_empty_services_section_is_an_error_unless_a_variable_wins() {
        for config in [
            "[profile p]\nservices = gone\n",
            "[profile p]\nservices = empty\n[services empty]\n# nothing\n",
        ] {
            let err = resolve_in(config, &[], Service::Sts, "p").unwrap_err();
            assert!(
                err.to_string().starts_with("profile p names services "),
                "{err}"
            );
            let env = [("AWS_ENDPOINT_URL", "http://all")];
            assert_eq!(url(config, &env, Service::Sts).unwrap(), "http://all");
        }
        // A section for other services only: this one falls through to the profile.
        let other = "[profile p]\nservices = s3\nendpoint_url = http://profile\n\
                     [services s3]\ns3 =\n  endpoint_url = http://s3\n";
        assert_eq!(url(other, &[], Service::Sts).unwrap(), "http://profile");
    }

    #[test]
    fn fips_and_dual_stack_follow_the_variables_then_the_profile_and_give_way_to_a_url() {
        let config = "[profile p]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = True\n";
        let both = resolve_in(config, &[], Service::Sts, "p").unwrap();
        assert!(both.fips && both.dual_stack);
        assert_eq!(both.cache_label(), "fips+dualstack");
        assert_eq!(both.url("eu-west-1"), "https://sts-fips.eu-west-1.api.aws");
        let off = [("AWS_USE_FIPS_ENDPOINT", "false")];
        let dual = resolve_in(config, &off, Service::Sts, "p").unwrap();
        assert!(!dual.fips && dual.dual_stack);
        assert_eq!(dual.url("eu-west-1"), "https://sts.eu-west-1.api.aws");
        let env = [("AWS_USE_FIPS_ENDPOINT", "true")];
        let fips = resolve_in("[profile p]\n", &env, Service::SsoOidc, "p").unwrap();
        assert_eq!(
            fips.url("us-east-1"),
            "https://oidc-fips.us-east-1.amazonaws.com"
        );
        assert_eq!(fips.cache_label(), "fips");
        let configured = [
            ("AWS_USE_FIPS_ENDPOINT", "true"),
            ("AWS_ENDPOINT_URL", "http://local"),
        ];
        let local = resolve_in(config, &configured, Service::Sts, "p").unwrap();
        assert!(
            !local.fips && !local.dual_stack,
            "dropped, as botocore drops them"
        );
        assert_eq!(local.cache_label(), "http://local");
        let plain = ServiceEndpoint::public(Service::Sts);
        assert_eq!(plain.cache_label(), "-");
        assert_eq!(
            plain.url("ap-east-1"),
            "https://sts.ap-east-1.amazonaws.com"
        );
        assert_eq!(
            ServiceEndpoint::public(Service::Sso).url("eu-west-1"),
            "https://portal.sso.eu-west-1.amazonaws.com"
        );
    }
}
