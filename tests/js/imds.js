// The AWS SDK for JavaScript v3 as a client of `broker exec --ec2-server` (tests/cli/ec2_server.rs):
// credentials from instance metadata, alone and at the end of the default chain, then
// GetCallerIdentity at the test's STS. Prints one ARN a line.
const { fromInstanceMetadata, fromNodeProviderChain } = require("@aws-sdk/credential-providers");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

(async () => {
  for (const credentials of [fromInstanceMetadata(), fromNodeProviderChain()]) {
    const sts = new STSClient({
      credentials,
      endpoint: process.env.AWS_ENDPOINT_URL,
      region: process.env.AWS_REGION,
    });
    const out = await sts.send(new GetCallerIdentityCommand({}));
    console.log(out.Arn);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
