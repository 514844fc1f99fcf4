// The two installs `npm run check:terraform` plans — a fresh cluster and an existing one — as
// tfvars, and what each plan must contain. Values are stand-ins (example.com, the documentation
// account 111122223333); nothing here reaches AWS.
import type { ResourceExpectation } from './plan-checks.js';

export const CHECK_REGION = 'us-east-1';
export const CHECK_NAME = 'layer-check';
export const CHECK_BUCKET = 'layer-check-bucket';

export const FRESH_VARS = {
  name: CHECK_NAME,
  region: CHECK_REGION,
  availability_zones: [`${CHECK_REGION}a`, `${CHECK_REGION}b`],
  bucket_name: CHECK_BUCKET,
  image_tag: '0.1.0',
  manage_public_dns: true,
  dns: { host: 'layer.example.com', zone_name: 'example.com' },
};

const EXISTING_ISSUER = `oidc.eks.${CHECK_REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;

export const EXISTING_VARS = {
  name: CHECK_NAME,
  region: CHECK_REGION,
  bucket_name: CHECK_BUCKET,
  create_cluster: false,
  existing_cluster: {
    name: 'existing',
    oidc_provider_arn: `arn:aws:iam::111122223333:oidc-provider/${EXISTING_ISSUER}`,
    oidc_issuer_url: `https://${EXISTING_ISSUER}`,
    karpenter_node_role: 'existing-karpenter-node',
  },
};

/** Storage, registry and IRSA roles: planned the same way on both paths. */
function common(): ResourceExpectation[] {
  const repos = ['gateway', 'operator', 'functions'].flatMap((r): ResourceExpectation[] => [
    {
      address: `module.ecr.aws_ecr_repository.this["${r}"]`,
      present: true,
      attrs: {
        name: `${CHECK_NAME}/${r}`,
        image_tag_mutability: 'IMMUTABLE',
        'image_scanning_configuration.0.scan_on_push': true,
      },
    },
    { address: `module.ecr.aws_ecr_lifecycle_policy.this["${r}"]`, present: true },
  ]);
  return [
    {
      address: 'module.s3.aws_s3_bucket.this',
      present: true,
      attrs: { bucket: CHECK_BUCKET, force_destroy: false },
    },
    {
      address: 'module.s3.aws_s3_bucket_versioning.this',
      present: true,
      attrs: { 'versioning_configuration.0.status': 'Enabled' },
    },
    {
      address: 'module.s3.aws_s3_bucket_server_side_encryption_configuration.this',
      present: true,
      attrs: { 'rule.0.apply_server_side_encryption_by_default.0.sse_algorithm': 'AES256' },
    },
    {
      address: 'module.s3.aws_s3_bucket_public_access_block.this[0]',
      present: true,
      attrs: {
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      },
    },
    {
      address: 'module.s3.aws_s3_bucket_ownership_controls.this[0]',
      present: true,
      attrs: { 'rule.0.object_ownership': 'BucketOwnerEnforced' },
    },
    {
      address: 'module.s3.aws_s3_bucket_lifecycle_configuration.this',
      present: true,
      attrs: {
        'rule.0.id': 'history',
        'rule.0.expiration.0.days': 90,
        'rule.1.id': 'clickstream',
        'rule.2.noncurrent_version_expiration.0.noncurrent_days': 30,
      },
    },
    { address: 'module.s3.aws_s3_bucket_policy.this', present: true },
    ...repos,
    {
      address: 'module.gateway_role.aws_iam_role.this',
      present: true,
      attrs: { name: `${CHECK_NAME}-gateway` },
    },
    {
      address: 'module.workers_role.aws_iam_role.this',
      present: true,
      attrs: { name: `${CHECK_NAME}-workers` },
    },
    {
      address: 'module.dashboard_role.aws_iam_role_policy.this',
      present: true,
      policyContains: { policy: ['pricing:GetProducts', 'ce:GetCostAndUsage', 'cloudwatch:GetMetricData'] },
    },
    { address: 'terraform_data.input_rules', present: true },
  ];
}

export function freshExpectations(): ResourceExpectation[] {
  const [az0, az1] = FRESH_VARS.availability_zones;
  return [
    ...common(),
    { address: 'module.network[0].aws_vpc.this', present: true, attrs: { cidr_block: '10.40.0.0/16' } },
    {
      address: 'module.network[0].aws_subnet.public[0]',
      present: true,
      attrs: {
        availability_zone: az0,
        map_public_ip_on_launch: true,
        cidr_block: '10.40.0.0/20',
        'tags["karpenter.sh/discovery"]': CHECK_NAME,
        'tags["kubernetes.io/role/elb"]': '1',
      },
    },
    { address: 'module.network[0].aws_subnet.public[1]', present: true, attrs: { availability_zone: az1 } },
    {
      address: 'module.network[0].aws_subnet.private[0]',
      present: true,
      attrs: { cidr_block: '10.40.128.0/20', 'tags["kubernetes.io/role/internal-elb"]': '1' },
    },
    { address: 'module.network[0].aws_nat_gateway.this[0]', present: false },
    {
      address: 'module.network[0].aws_vpc_endpoint.s3',
      present: true,
      attrs: { vpc_endpoint_type: 'Gateway', service_name: `com.amazonaws.${CHECK_REGION}.s3` },
    },
    {
      address: 'module.eks[0].aws_eks_cluster.this',
      present: true,
      attrs: { name: CHECK_NAME, version: '1.34', 'access_config.0.authentication_mode': 'API' },
    },
    {
      address: 'module.eks[0].aws_eks_node_group.system',
      present: true,
      attrs: {
        instance_types: ['i4i.large'],
        capacity_type: 'ON_DEMAND',
        'scaling_config.0.min_size': 1,
        'labels["layer.hev.dev/node-role"]': 'system',
      },
    },
    {
      address: 'module.eks[0].aws_iam_openid_connect_provider.this',
      present: true,
      attrs: { client_id_list: ['sts.amazonaws.com'] },
    },
    {
      address: 'module.eks[0].aws_eks_access_entry.karpenter_nodes[0]',
      present: true,
      attrs: { type: 'EC2_LINUX' },
    },
    { address: 'module.eks[0].aws_eks_addon.core["vpc-cni"]', present: true },
    { address: 'module.eks[0].aws_eks_addon.core["coredns"]', present: true },
    {
      address: 'module.eks[0].aws_ec2_tag.cluster_sg_karpenter',
      present: true,
      attrs: { key: 'karpenter.sh/discovery' },
    },
    {
      address: 'module.karpenter[0].aws_iam_role.node',
      present: true,
      attrs: { name: `${CHECK_NAME}-karpenter-node` },
    },
    {
      address: 'module.karpenter[0].aws_sqs_queue.interruption',
      present: true,
      attrs: {
        name: `${CHECK_NAME}-karpenter`,
        message_retention_seconds: 300,
        sqs_managed_sse_enabled: true,
      },
    },
    {
      address: 'module.karpenter[0].aws_cloudwatch_event_rule.interruption["spot-interruption"]',
      present: true,
    },
    { address: 'module.karpenter[0].aws_cloudwatch_event_target.interruption["rebalance"]', present: true },
    {
      address: 'module.karpenter_controller_role[0].aws_iam_role.this',
      present: true,
      attrs: { name: `${CHECK_NAME}-karpenter-controller` },
    },
    { address: 'module.load_balancer_controller_role[0].aws_iam_role.this', present: true },
    { address: 'module.efs[0].aws_efs_file_system.this', present: true, attrs: { encrypted: true } },
    { address: 'module.efs[0].aws_efs_mount_target.this[1]', present: true },
    { address: 'aws_eks_addon.efs_csi[0]', present: true, attrs: { addon_name: 'aws-efs-csi-driver' } },
    { address: 'module.dns[0].aws_route53_zone.this[0]', present: true, attrs: { name: 'example.com' } },
    {
      address: 'module.dns[0].aws_acm_certificate.this',
      present: true,
      attrs: { domain_name: 'layer.example.com', validation_method: 'DNS' },
    },
  ];
}

export function existingExpectations(): ResourceExpectation[] {
  const sub = (sa: string) => `system:serviceaccount:${sa}`;
  return [
    ...common(),
    // The trust is known at plan time here (the provider ARN is a variable): pin its subjects.
    {
      address: 'module.gateway_role.aws_iam_role.this',
      present: true,
      policyContains: {
        assume_role_policy: [
          `${EXISTING_ISSUER}:sub`,
          `${EXISTING_ISSUER}:aud`,
          sub('layer:layer-gateway'),
          sub('layer:layer-operator'),
          'sts:AssumeRoleWithWebIdentity',
        ],
      },
    },
    {
      address: 'module.dashboard_role.aws_iam_role.this',
      present: true,
      policyContains: { assume_role_policy: [sub('layer:layer-dashboard')] },
    },
    {
      address: 'module.workers_role.aws_iam_role.this',
      present: true,
      policyContains: { assume_role_policy: [sub('layer:layer-worker')] },
    },
    { address: 'module.network[0].aws_vpc.this', present: false },
    { address: 'module.eks[0].aws_eks_cluster.this', present: false },
    { address: 'module.eks[0].aws_eks_node_group.system', present: false },
    { address: 'module.karpenter[0].aws_sqs_queue.interruption', present: false },
    { address: 'module.karpenter_controller_role[0].aws_iam_role.this', present: false },
    { address: 'module.efs[0].aws_efs_file_system.this', present: false },
    { address: 'module.dns[0].aws_acm_certificate.this', present: false },
  ];
}

/** Outputs each plan must already know (the rest depend on ARNs AWS assigns at apply). */
export const FRESH_OUTPUTS: Record<string, unknown> = {
  region: CHECK_REGION,
  bucket_name: CHECK_BUCKET,
  cluster_name: CHECK_NAME,
  kubeconfig_command: `aws eks update-kubeconfig --region ${CHECK_REGION} --name ${CHECK_NAME}`,
};

export const EXISTING_OUTPUTS: Record<string, unknown> = {
  region: CHECK_REGION,
  bucket_name: CHECK_BUCKET,
  cluster_name: 'existing',
  oidc_provider_arn: EXISTING_VARS.existing_cluster.oidc_provider_arn,
  kubeconfig_command: `aws eks update-kubeconfig --region ${CHECK_REGION} --name existing`,
};
