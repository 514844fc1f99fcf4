// The checks `npm run check:terraform` runs over tofu's plan JSON, the chart's rendered objects
// and the .tf sources (scripts/terraform/plan-checks.ts), fed hand-made inputs: a check that
// cannot fail proves nothing when the real plan passes it. The last test reads the real
// deploy/terraform sources, so a hard-coded account id or region fails `npm test` too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { existingExpectations, freshExpectations } from '../../../scripts/terraform/expectations.js';
import {
  attributeAt,
  checkOutputs,
  checkRendered,
  checkResources,
  hardCodedProblems,
  isMinioLifecycleWait,
  pathSteps,
  policyProblems,
  WILDCARD_RESOURCE_SIDS,
  type K8sObject,
  type TofuPlan,
} from '../../../scripts/terraform/plan-checks.js';
import { packageRoot } from '../../../src/dev/paths.js';

function planOf(...changes: [string, Record<string, unknown>, string[]?][]): TofuPlan {
  return {
    resource_changes: changes.map(([address, after, actions]) => ({
      address,
      type: address.split('.').at(-2)?.replace(/\[.*$/, '') ?? '',
      change: { actions: actions ?? ['create'], after },
    })),
  };
}

const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('attribute paths', () => {
  it.each([
    ['rule.0.expiration.0.days', ['rule', '0', 'expiration', '0', 'days']],
    // tag keys carry dots and slashes: brackets keep them whole
    ['tags["karpenter.sh/discovery"]', ['tags', 'karpenter.sh/discovery']],
    ['a.b["x.y"].c', ['a', 'b', 'x.y', 'c']],
  ])('%s splits into its steps', (path, steps) => {
    expect(pathSteps(path)).toEqual(steps);
  });

  it('reads nested lists and maps and is undefined past a missing step', () => {
    const after = { rule: [{ expiration: [{ days: 90 }] }], tags: { 'karpenter.sh/discovery': 'c' } };
    expect(attributeAt(after, 'rule.0.expiration.0.days')).toBe(90);
    expect(attributeAt(after, 'tags["karpenter.sh/discovery"]')).toBe('c');
    expect(attributeAt(after, 'rule.1.expiration.0.days')).toBeUndefined();
    expect(attributeAt(null, 'a')).toBeUndefined();
  });
});

describe('checkResources', () => {
  const plan = planOf(
    ['module.s3.aws_s3_bucket_versioning.this', { versioning_configuration: [{ status: 'Enabled' }] }],
    ['module.network[0].aws_vpc.this', { cidr_block: '10.40.0.0/16' }],
    ['module.ecr.aws_ecr_repository.this["gateway"]', { name: 'x/gateway' }, ['delete', 'create']],
    [
      'module.gateway_role.aws_iam_role.this',
      { assume_role_policy: policy({ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity' }) },
    ],
  );

  it.each([
    // the good case: present with the attribute
    [
      {
        address: 'module.s3.aws_s3_bucket_versioning.this',
        present: true,
        attrs: { 'versioning_configuration.0.status': 'Enabled' },
      },
      [],
    ],
    // a wrong attribute names the path, what it is and what was expected
    [
      {
        address: 'module.s3.aws_s3_bucket_versioning.this',
        present: true,
        attrs: { 'versioning_configuration.0.status': 'Suspended' },
      },
      [
        'module.s3.aws_s3_bucket_versioning.this: versioning_configuration.0.status is "Enabled", expected "Suspended"',
      ],
    ],
    // a resource the mode must plan but does not
    [
      { address: 'module.eks[0].aws_eks_cluster.this', present: true },
      ['module.eks[0].aws_eks_cluster.this is not planned'],
    ],
    // existing-cluster mode: a cluster module resource must be absent
    [
      { address: 'module.network[0].aws_vpc.this', present: false },
      ['module.network[0].aws_vpc.this is planned but must not be (its module is skipped in this mode)'],
    ],
    // a replace is not a create of a fresh install
    [
      { address: 'module.ecr.aws_ecr_repository.this["gateway"]', present: true },
      ['module.ecr.aws_ecr_repository.this["gateway"] plans delete+create, expected create'],
    ],
    // a policy must contain each needle
    [
      {
        address: 'module.gateway_role.aws_iam_role.this',
        present: true,
        policyContains: {
          assume_role_policy: ['AssumeRoleWithWebIdentity', 'system:serviceaccount:layer:layer-operator'],
        },
      },
      [
        'module.gateway_role.aws_iam_role.this: assume_role_policy does not contain "system:serviceaccount:layer:layer-operator"',
      ],
    ],
    // an unknown policy (computed at apply) cannot satisfy a needle
    [
      { address: 'module.network[0].aws_vpc.this', present: true, policyContains: { policy: ['x'] } },
      ['module.network[0].aws_vpc.this: policy is not known at plan time (undefined), expected a policy'],
    ],
  ])('%o → %o', (expectation, problems) => {
    expect(checkResources(plan, [expectation])).toEqual(problems);
  });

  it('the fresh and existing expectations disagree exactly on the cluster modules', () => {
    const fresh = new Set(
      freshExpectations()
        .filter((e) => e.present)
        .map((e) => e.address),
    );
    const absentInExisting = existingExpectations()
      .filter((e) => !e.present)
      .map((e) => e.address);
    expect(absentInExisting.length).toBeGreaterThan(0);
    for (const a of absentInExisting) expect(fresh.has(a), a).toBe(true);
  });
});

describe('checkOutputs', () => {
  it('passes known equal values and names missing, unknown or different ones', () => {
    const plan: TofuPlan = {
      planned_values: { outputs: { region: { value: 'us-east-1' }, bucket_name: {} } },
    };
    expect(checkOutputs(plan, { region: 'us-east-1' })).toEqual([]);
    expect(checkOutputs(plan, { region: 'eu-west-1', bucket_name: 'b', nope: 1 })).toEqual([
      'output region is "us-east-1", expected "eu-west-1"',
      'output bucket_name is unknown or missing, expected "b"',
      'output nope is unknown or missing, expected 1',
    ]);
  });
});

describe('policyProblems', () => {
  const role = (doc: string) => planOf(['module.r.aws_iam_role_policy.this', { policy: doc }]);
  it.each([
    // scoped: fine
    [
      policy({ Sid: 'Objects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::b/*'] }),
      [],
    ],
    // every action
    [
      policy({ Sid: 'All', Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::b' }),
      ['module.r.aws_iam_role_policy.this: statement All allows *'],
    ],
    // every action of a service
    [
      policy({ Sid: 'S3', Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::b'] }),
      ['module.r.aws_iam_role_policy.this: statement S3 allows s3:*'],
    ],
    // a write on every resource that is not a reviewed exception
    [
      policy({ Sid: 'Writes', Effect: 'Allow', Action: ['s3:PutObject'], Resource: '*' }),
      [
        'module.r.aws_iam_role_policy.this: statement Writes allows s3:PutObject on every resource ("*") and is not a reviewed exception',
      ],
    ],
    // reviewed exception: Cost Explorer has no resource-level permissions
    [policy({ Sid: 'CostExplorer', Effect: 'Allow', Action: ['ce:GetCostAndUsage'], Resource: '*' }), []],
    // a Deny of everything is what a bucket policy's TLS rule looks like
    [policy({ Sid: 'DenyInsecureTransport', Effect: 'Deny', Action: 's3:*', Resource: '*' }), []],
  ])('%s', (doc, problems) => {
    expect(policyProblems(role(doc), WILDCARD_RESOURCE_SIDS)).toEqual(problems);
  });

  it('reports a policy that is not JSON and skips one unknown at plan time', () => {
    expect(policyProblems(role('{nope'), WILDCARD_RESOURCE_SIDS)).toEqual([
      'module.r.aws_iam_role_policy.this: policy is not JSON',
    ]);
    expect(policyProblems(planOf(['module.r.aws_iam_role_policy.this', {}]), WILDCARD_RESOURCE_SIDS)).toEqual(
      [],
    );
  });
});

describe('checkRendered', () => {
  const want = {
    serviceAccount: 'layer-operator',
    roleArn: 'arn:aws:iam::111122223333:role/x',
    bucket: 'b',
    image: 'repo/operator:1',
    karpenter: { clusterName: 'c', nodeRole: 'n' },
  };
  const good = (): K8sObject[] => [
    {
      kind: 'ServiceAccount',
      metadata: { name: 'layer-operator', annotations: { 'eks.amazonaws.com/role-arn': want.roleArn } },
    },
    {
      kind: 'Deployment',
      metadata: { name: 'layer-operator' },
      spec: {
        template: {
          spec: {
            serviceAccountName: 'layer-operator',
            containers: [{ image: want.image, env: [{ name: 'LAYER_PAYLOAD_BUCKET', value: 'b' }] }],
          },
        },
      },
    },
    {
      kind: 'EC2NodeClass',
      spec: { role: 'n', subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'c' } }] },
    },
    { kind: 'NodePool', metadata: { name: 'layer-worker-cpu' } },
    { kind: 'NodePool', metadata: { name: 'layer-worker-gpu' } },
  ];

  it('passes the objects the fragment should produce', () => {
    expect(checkRendered(good(), want)).toEqual([]);
  });

  it('names a missing IRSA annotation, a wrong bucket, image and node role, and a missing pool', () => {
    const objs = good();
    objs[0]!.metadata!.annotations = {};
    const pod = (
      objs[1]!.spec as {
        template: { spec: { containers: { image: string; env: { name: string; value: string }[] }[] } };
      }
    ).template.spec;
    pod.containers[0]!.image = 'ghcr.io/other:1';
    pod.containers[0]!.env = [];
    (objs[2]!.spec as { role: string }).role = 'other';
    objs.pop();
    expect(checkRendered(objs, want)).toEqual([
      `ServiceAccount layer-operator has eks.amazonaws.com/role-arn undefined, expected ${want.roleArn}`,
      'Deployment layer-operator image is ghcr.io/other:1, expected repo/operator:1',
      'Deployment layer-operator LAYER_PAYLOAD_BUCKET is undefined, expected b',
      'EC2NodeClass role is other, expected n',
      'no NodePool for worker-gpu rendered',
    ]);
  });
});

describe('hardCodedProblems', () => {
  it.each([
    ['  region = "us-east-1"', ['x.tf:1: a region written into the configuration']],
    ['  principal = "arn:aws:iam::123456789012:root"', ['x.tf:1: a 12-digit account id']],
    // examples in descriptions and messages are documentation, not configuration
    ['  description = "e.g. us-east-1 in account 123456789012"', []],
    ['  error_message = "region must be like \\"us-east-1\\""', []],
    ['  # comment: "us-east-1"', []],
    ['  name = "${var.region}-a"', []],
  ])('%s', (line, problems) => {
    expect(hardCodedProblems('x.tf', line)).toEqual(problems);
  });

  it('finds none in deploy/terraform', () => {
    const dir = join(packageRoot(), 'deploy', 'terraform');
    const files = (d: string): string[] =>
      readdirSync(d).flatMap((n) => {
        const p = join(d, n);
        if (n.startsWith('.')) return [];
        return statSync(p).isDirectory() ? files(p) : n.endsWith('.tf') ? [p] : [];
      });
    const all = files(dir);
    expect(all.length).toBeGreaterThan(20);
    expect(all.flatMap((f) => hardCodedProblems(relative(dir, f), readFileSync(f, 'utf8')))).toEqual([]);
  });
});

describe('isMinioLifecycleWait', () => {
  const waitError = [
    'module.s3.aws_s3_bucket_lifecycle_configuration.this: Still creating... [2m50s elapsed]',
    '╷',
    '│ Error: creating S3 Bucket (layer-check-minio) Lifecycle Configuration',
    '│',
    "│ While waiting: timeout while waiting for state to become 'true' (last state: 'false', timeout: 3m0s)",
    '╵',
  ].join('\n');

  it.each([
    // the known gap alone: accepted
    [waitError, true],
    // the same resource failing for another reason: not accepted
    ['│ Error: creating S3 Bucket (b) Lifecycle Configuration\n│ api error NotImplemented', false],
    // the known gap plus any other error: not accepted
    [`${waitError}\n│ Error: putting S3 Bucket (b) Policy: AccessDenied`, false],
    // an unrelated failure
    ['│ Error: creating S3 Bucket (b): BucketAlreadyExists', false],
  ])('%#', (output, accepted) => {
    expect(isMinioLifecycleWait(output)).toBe(accepted);
  });
});
