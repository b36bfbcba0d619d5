//! Where each AWS service is reached, as the AWS SDKs choose it: the service's own variable
//! (`AWS_ENDPOINT_URL_STS`…), then `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`; none
//! (the service's public endpoint) when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`.
//!
//! Pure: a function of the environment and the profile.

use crate::environment::Environment;

/// The services broker calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sts,
    Iam,
    Sso,
    SsoOidc,
}

/// The endpoint configured for `service`, if any.
pub fn configured(
    service: Service,
    env: &Environment,
    profile_endpoint: Option<&str>,
) -> Option<String> {
    if env.aws.ignore_configured_endpoint_urls {
        return None;
    }
    let own = match service {
        Service::Sts => &env.aws.endpoint_url_sts,
        Service::Iam => &env.aws.endpoint_url_iam,
        Service::Sso => &env.aws.endpoint_url_sso,
        Service::SsoOidc => &env.aws.endpoint_url_sso_oidc,
    };
    own.clone()
        .or_else(|| env.aws.endpoint_url.clone())
        .or_else(|| {
            profile_endpoint
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_own_variable_then_the_general_one_then_the_profile() {
        let profile = Some("http://profile");
        let env = Environment::from_pairs(&[
            ("AWS_ENDPOINT_URL_STS", "http://sts"),
            ("AWS_ENDPOINT_URL", "http://all"),
        ]);
        assert_eq!(
            configured(Service::Sts, &env, profile).as_deref(),
            Some("http://sts")
        );
        assert_eq!(
            configured(Service::Iam, &env, profile).as_deref(),
            Some("http://all")
        );
        let env = Environment::from_pairs(&[]);
        assert_eq!(
            configured(Service::Sso, &env, profile).as_deref(),
            Some("http://profile")
        );
        assert_eq!(configured(Service::Sso, &env, None), None);
        let env = Environment::from_pairs(&[
            ("AWS_ENDPOINT_URL_STS", "http://sts"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
        ]);
        assert_eq!(configured(Service::Sts, &env, profile), None);
    }
}
