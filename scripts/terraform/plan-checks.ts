// What `npm run check:terraform` asserts about deploy/terraform, as pure functions over the JSON
// of `tofu show -json <plan>`, the objects `helm template` renders, and the .tf sources. Each
// returns the problems it found as sentences (empty: all good), so the command can print every
// problem of a run at once and the unit tests can feed them hand-made inputs (ADR 0119).

/** The part of `tofu show -json <planfile>` these checks read. */
export interface TofuPlan {
  resource_changes?: ResourceChange[];
  planned_values?: { outputs?: Record<string, { value?: unknown; sensitive?: boolean }> };
}

export interface ResourceChange {
  address: string;
  type: string;
  change: { actions: string[]; after?: Record<string, unknown> | null; after_unknown?: unknown };
}

/**
 * One planned resource the configuration must (or must not) create, and attribute values it must
 * have. Attribute paths are dotted, list indexes as numbers, and keys with dots in brackets:
 * `rule.0.expiration.0.days`, `tags["karpenter.sh/discovery"]`.
 */
export interface ResourceExpectation {
  address: string;
  /** false: the address must not be planned at all (a skipped module). */
  present: boolean;
  attrs?: Record<string, unknown>;
  /** Paths whose value must be a JSON policy string containing each of these substrings. */
  policyContains?: Record<string, string[]>;
}

/** The steps of an attribute path: `a.b.0["k.e.y"]` → a, b, 0, k.e.y. */
export function pathSteps(path: string): string[] {
  return [...path.matchAll(/\["([^"]*)"\]|([^.[\]]+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

/** `a.b.0.c` of a planned `after` object; undefined when any step is missing. */
export function attributeAt(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const step of pathSteps(path)) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) cur = cur[Number(step)];
    else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[step];
    else return undefined;
  }
  return cur;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Every expectation checked against the plan's resource changes (only "create" plans exist here). */
export function checkResources(plan: TofuPlan, expectations: ResourceExpectation[]): string[] {
  const byAddress = new Map((plan.resource_changes ?? []).map((r) => [r.address, r]));
  const problems: string[] = [];
  for (const e of expectations) {
    const rc = byAddress.get(e.address);
    if (!e.present) {
      if (rc) problems.push(`${e.address} is planned but must not be (its module is skipped in this mode)`);
      continue;
    }
    if (!rc) {
      problems.push(`${e.address} is not planned`);
      continue;
    }
    if (rc.change.actions.join('+') !== 'create')
      problems.push(`${e.address} plans ${rc.change.actions.join('+')}, expected create`);
    for (const [path, want] of Object.entries(e.attrs ?? {})) {
      const got = attributeAt(rc.change.after, path);
      if (!sameValue(got, want))
        problems.push(`${e.address}: ${path} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
    for (const [path, needles] of Object.entries(e.policyContains ?? {})) {
      const got = attributeAt(rc.change.after, path);
      if (typeof got !== 'string') {
        problems.push(
          `${e.address}: ${path} is not known at plan time (${JSON.stringify(got)}), expected a policy`,
        );
        continue;
      }
      for (const needle of needles)
        if (!got.includes(needle))
          problems.push(`${e.address}: ${path} does not contain ${JSON.stringify(needle)}`);
    }
  }
  return problems;
}

/** Outputs whose planned value must already be known and equal to these. */
export function checkOutputs(plan: TofuPlan, want: Record<string, unknown>): string[] {
  const outputs = plan.planned_values?.outputs ?? {};
  return Object.entries(want)
    .filter(([name, value]) => !sameValue(outputs[name]?.value, value))
    .map(
      ([name, value]) =>
        `output ${name} is ${outputs[name] && 'value' in outputs[name] ? JSON.stringify(outputs[name].value) : 'unknown or missing'}, expected ${JSON.stringify(value)}`,
    );
}

/** Addresses of planned resources matching a prefix (counts of subnets, repositories, ...). */
export function addressesUnder(plan: TofuPlan, prefix: string): string[] {
  return (plan.resource_changes ?? []).map((r) => r.address).filter((a) => a.startsWith(prefix));
}

interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

/** Attributes that hold IAM/resource policy JSON, by resource type. */
const POLICY_ATTRIBUTES: Record<string, string[]> = {
  aws_iam_role_policy: ['policy'],
  aws_iam_role: ['assume_role_policy'],
  aws_s3_bucket_policy: ['policy'],
  aws_sqs_queue_policy: ['policy'],
};

/**
 * Least privilege over every policy known at plan time: no Allow of every action (`*`) or of every
 * action of a service (`s3:*`), and no Allow of a write action on every resource unless the
 * statement is one of the reviewed exceptions (actions AWS gives no resource-level permission).
 */
export function policyProblems(plan: TofuPlan, wildcardResourceAllowed: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    for (const attr of POLICY_ATTRIBUTES[rc.type] ?? []) {
      const text = attributeAt(rc.change.after, attr);
      if (typeof text !== 'string') continue;
      let doc: { Statement?: PolicyStatement | PolicyStatement[] };
      try {
        doc = JSON.parse(text) as typeof doc;
      } catch {
        problems.push(`${rc.address}: ${attr} is not JSON`);
        continue;
      }
      const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
      for (const s of statements) {
        if (s.Effect !== 'Allow') continue;
        const actions = ([] as string[]).concat(s.Action ?? []);
        const resources = ([] as string[]).concat(s.Resource ?? []);
        const broad = actions.filter((a) => a === '*' || /^[a-z0-9-]+:\*$/.test(a));
        if (broad.length)
          problems.push(`${rc.address}: statement ${s.Sid ?? '?'} allows ${broad.join(', ')}`);
        if (resources.includes('*') && !wildcardResourceAllowed.has(s.Sid ?? ''))
          problems.push(
            `${rc.address}: statement ${s.Sid ?? '?'} allows ${actions.join(', ')} on every resource ("*") ` +
              `and is not a reviewed exception`,
          );
      }
    }
  }
  return problems;
}

/** Statements whose actions have no resource-level permissions in AWS, reviewed in iam.tf. */
export const WILDCARD_RESOURCE_SIDS: ReadonlySet<string> = new Set([
  // dashboard cost-read: pricing, Cost Explorer, CloudWatch reads
  'Pricing',
  'CostExplorer',
  'CloudWatchReads',
  // EFS CSI: describe calls; deletion is limited by the driver's tag
  'Describe',
  'DeleteOwnAccessPoints',
  // Karpenter: region-pinned describes, instance profile reads
  'RegionalReads',
  'InstanceProfileReads',
  // Load Balancer Controller: reads, tag-conditioned creation, node SG rules, WAF association
  'ServiceLinkedRole',
  'Reads',
  'CreateSecurityGroups',
  'NodeSecurityGroupRules',
  'CreateTaggedLoadBalancers',
  'WebAcls',
]);

/** A rendered Kubernetes object, as much of it as the checks read. */
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export interface RenderedExpectation {
  serviceAccount: string;
  roleArn: string;
  bucket: string;
  image: string;
  karpenter?: { clusterName: string; nodeRole: string };
}

/**
 * What the helm_values fragment must produce in the chart's objects: the IRSA annotation on the
 * operator's ServiceAccount, the bucket in the operator's environment, the ECR image on its
 * containers and, when set, the Karpenter EC2NodeClass bound to the cluster and node role.
 */
export function checkRendered(objects: K8sObject[], want: RenderedExpectation): string[] {
  const problems: string[] = [];
  const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata?.name === want.serviceAccount);
  if (!sa) problems.push(`no ServiceAccount ${want.serviceAccount} rendered`);
  else if (sa.metadata?.annotations?.['eks.amazonaws.com/role-arn'] !== want.roleArn)
    problems.push(
      `ServiceAccount ${want.serviceAccount} has eks.amazonaws.com/role-arn ` +
        `${JSON.stringify(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn'])}, expected ${want.roleArn}`,
    );

  const deployments = objects.filter((o) => o.kind === 'Deployment');
  if (deployments.length === 0) problems.push('no Deployment rendered');
  for (const d of deployments) {
    const pod = attributeAt(d.spec, 'template.spec') as
      | {
          serviceAccountName?: string;
          containers?: { image?: string; env?: { name: string; value?: string }[] }[];
        }
      | undefined;
    const name = d.metadata?.name ?? '?';
    if (pod?.serviceAccountName !== want.serviceAccount)
      problems.push(`Deployment ${name} runs as ${pod?.serviceAccountName}, expected ${want.serviceAccount}`);
    for (const c of pod?.containers ?? []) {
      if (c.image !== want.image)
        problems.push(`Deployment ${name} image is ${c.image}, expected ${want.image}`);
      const bucket = c.env?.find((e) => e.name === 'LAYER_PAYLOAD_BUCKET')?.value;
      if (bucket !== want.bucket)
        problems.push(`Deployment ${name} LAYER_PAYLOAD_BUCKET is ${bucket}, expected ${want.bucket}`);
    }
  }

  if (want.karpenter) {
    const nodeClass = objects.find((o) => o.kind === 'EC2NodeClass');
    if (!nodeClass) problems.push('no EC2NodeClass rendered (workerKarpenter)');
    else {
      if (nodeClass.spec?.role !== want.karpenter.nodeRole)
        problems.push(
          `EC2NodeClass role is ${String(nodeClass.spec?.role)}, expected ${want.karpenter.nodeRole}`,
        );
      const discovery = attributeAt(nodeClass.spec, 'subnetSelectorTerms.0.tags["karpenter.sh/discovery"]');
      if (discovery !== want.karpenter.clusterName)
        problems.push(
          `EC2NodeClass selects subnets tagged karpenter.sh/discovery=${String(discovery)}, expected ${want.karpenter.clusterName}`,
        );
    }
    const pools = objects.filter((o) => o.kind === 'NodePool').map((o) => o.metadata?.name ?? '');
    for (const role of ['worker-cpu', 'worker-gpu'])
      if (!pools.some((p) => p.endsWith(role))) problems.push(`no NodePool for ${role} rendered`);
  }
  return problems;
}

/** A 12-digit AWS account id or a region code written into .tf code (descriptions, messages and comments aside). */
export function hardCodedProblems(file: string, source: string): string[] {
  const problems: string[] = [];
  source.split('\n').forEach((line, i) => {
    const code = line.replace(/(#|\/\/).*$/, '');
    if (/^\s*(description|error_message)\s*=/.test(code)) return;
    if (/(?<![0-9])[0-9]{12}(?![0-9])/.test(code)) problems.push(`${file}:${i + 1}: a 12-digit account id`);
    if (/"(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-[a-z]+-[0-9][a-z]?"/.test(code))
      problems.push(`${file}:${i + 1}: a region written into the configuration`);
  });
  return problems;
}

/**
 * Whether a failed `tofu apply` against MinIO failed only in the AWS provider's wait for the
 * lifecycle configuration to read back as sent (MinIO lacks the
 * x-amz-transition-default-minimum-object-size header the provider compares): exactly one error,
 * and it is that one.
 */
export function isMinioLifecycleWait(output: string): boolean {
  const errors = output.split('\n').filter((l) => /^\s*│?\s*Error: /.test(l) || /^Error: /.test(l));
  return (
    errors.length === 1 &&
    /creating S3 Bucket \(\S+\) Lifecycle Configuration/.test(output) &&
    /While waiting/.test(output)
  );
}
