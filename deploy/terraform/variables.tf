# Inputs of the AWS stage of an install (install.md "Terraform"). Every rule a value must follow is
# a validation block whose message names the variable and the fix; rules that relate two variables
# are preconditions in checks.tf (validation blocks may only read their own variable before
# Terraform 1.9, and this configuration stays valid for Terraform >= 1.6).

variable "name" {
  description = "Name of this install (one per environment): prefixes every AWS resource and is the EKS cluster name on the fresh-cluster path."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and '-', starting with a letter and not ending with '-' (it prefixes S3, IAM, ECR and EKS names), e.g. \"layer-prod\"."
  }
}

variable "region" {
  description = "AWS region of every resource of the install, e.g. us-east-1. No default: the region is the operator's choice, never this module's."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as \"us-east-1\" or \"eu-west-2\"."
  }
}

variable "tags" {
  description = "Tags added to every resource (on top of app.kubernetes.io/part-of=hev-layer and layer.hev.dev/install=<name>)."
  type        = map(string)
  default     = {}
}

# --- Cluster path -----------------------------------------------------------------------------

variable "create_cluster" {
  description = "true (recommended): a fresh VPC + EKS + system node group + Karpenter prerequisites. false: use an existing EKS cluster described by existing_cluster; the cluster modules are skipped."
  type        = bool
  default     = true
}

variable "existing_cluster" {
  description = "The EKS cluster to bind to when create_cluster = false: its name, the ARN and issuer URL of its IAM OIDC provider (IRSA), and optionally the IAM role name of nodes Karpenter launches (workerKarpenter.nodeRole). Read from variables rather than looked up so a plan needs no AWS call."
  type = object({
    name                = string
    oidc_provider_arn   = string
    oidc_issuer_url     = string
    karpenter_node_role = optional(string, "")
  })
  default = null

  validation {
    condition     = var.existing_cluster == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.existing_cluster.oidc_provider_arn))
    error_message = "existing_cluster.oidc_provider_arn must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>); find it with `aws iam list-open-id-connect-providers`."
  }

  validation {
    condition     = var.existing_cluster == null ? true : can(regex("^https://", var.existing_cluster.oidc_issuer_url))
    error_message = "existing_cluster.oidc_issuer_url must be the cluster's issuer URL starting with https:// (`aws eks describe-cluster --name <name> --query cluster.identity.oidc.issuer`)."
  }

  validation {
    condition     = var.existing_cluster == null ? true : can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.existing_cluster.name))
    error_message = "existing_cluster.name must be an EKS cluster name (letters, digits, '-' and '_', at most 100 characters)."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version of a fresh cluster (major.minor)."
  type        = string
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be major.minor, e.g. \"1.34\"."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the fresh cluster's VPC, /16 to /20; cut into 16 equal subnets, of which one public and one private per availability zone are used."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20, false)
    error_message = "vpc_cidr must be an IPv4 CIDR from /16 to /20 (e.g. \"10.40.0.0/16\"): it is cut into 16 subnets, 2 per availability zone."
  }
}

variable "availability_zones" {
  description = "Availability zones of the fresh cluster's subnets (2 or 3, in var.region), e.g. [\"us-east-1a\", \"us-east-1b\"]. Named rather than looked up so a plan needs no AWS call."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || (length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3)
    error_message = "availability_zones must list 2 or 3 zones (EKS needs subnets in at least two) or be empty when create_cluster = false."
  }

  validation {
    condition     = alltrue([for z in var.availability_zones : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", z))])
    error_message = "availability_zones entries must be zone names such as \"us-east-1a\"."
  }
}

variable "workers_in_private_subnets" {
  description = "false (default, as install.md recommends): Karpenter launches workers in the public subnets and no NAT Gateway exists. true: workers go to private subnets behind one NAT Gateway (a standing hourly and egress cost)."
  type        = bool
  default     = false
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints (each costs per AZ-hour at rest), e.g. [\"ecr.api\", \"ecr.dkr\", \"sts\"]. The S3 gateway endpoint is always created (it is free)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.interface_endpoints : contains(["ecr.api", "ecr.dkr", "sts", "sqs", "ec2", "logs", "elasticfilesystem"], s)])
    error_message = "interface_endpoints entries must be among ecr.api, ecr.dkr, sts, sqs, ec2, logs, elasticfilesystem."
  }
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the fresh cluster's public Kubernetes API endpoint. Narrow it to your offices/CI."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.cluster_endpoint_public_access_cidrs) > 0 && alltrue([for c in var.cluster_endpoint_public_access_cidrs : can(cidrhost(c, 0))])
    error_message = "cluster_endpoint_public_access_cidrs must be a non-empty list of IPv4 CIDRs, e.g. [\"203.0.113.0/24\"]."
  }
}

variable "system_node_group" {
  description = "The one always-on system node group (gateway, operator, document cache). i4i.large by default so the serving path and the document cache share local NVMe."
  type = object({
    instance_type = optional(string, "i4i.large")
    min_size      = optional(number, 1)
    desired_size  = optional(number, 1)
    max_size      = optional(number, 2)
    disk_size_gib = optional(number, 50)
  })
  default = {}

  validation {
    condition     = var.system_node_group.min_size >= 1 && var.system_node_group.min_size <= var.system_node_group.desired_size && var.system_node_group.desired_size <= var.system_node_group.max_size
    error_message = "system_node_group needs 1 <= min_size <= desired_size <= max_size (the system group is always on)."
  }

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\\.[a-z0-9]+$", var.system_node_group.instance_type))
    error_message = "system_node_group.instance_type must be an EC2 instance type such as \"i4i.large\"."
  }
}

variable "enable_efs" {
  description = "An encrypted EFS file system with mount targets and the EFS CSI driver add-on (shared persistent volumes, install.md). Costs nothing at rest beyond stored bytes."
  type        = bool
  default     = true
}

# --- Karpenter (must match the chart's workerKarpenter values) ---------------------------------

variable "karpenter" {
  description = "Karpenter prerequisites: the controller's IRSA service account and the interruption queue. The NodePools themselves are the chart's (workerKarpenter.*): worker-cpu and worker-gpu, which the stock pools cpu, cpu-large and gpu select."
  type = object({
    enabled         = optional(bool, true)
    namespace       = optional(string, "kube-system")
    service_account = optional(string, "karpenter")
  })
  default = {}

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.karpenter.namespace)) && can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.karpenter.service_account))
    error_message = "karpenter.namespace and karpenter.service_account must be Kubernetes names (lowercase letters, digits, '-')."
  }
}

variable "load_balancer_controller" {
  description = "IRSA role for the AWS Load Balancer Controller (public ingress) in kube-system."
  type = object({
    enabled         = optional(bool, true)
    service_account = optional(string, "aws-load-balancer-controller")
  })
  default = {}
}

# --- What the chart runs ------------------------------------------------------------------------

variable "namespace" {
  description = "Kubernetes namespace of the Helm release (helm --namespace)."
  type        = string
  default     = "layer"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace)) && length(var.namespace) <= 63
    error_message = "namespace must be a Kubernetes namespace name (lowercase letters, digits and '-', at most 63 characters)."
  }
}

variable "service_accounts" {
  description = "Kubernetes service accounts the IRSA roles trust, as names in var.namespace. operator is the chart's serviceAccount.name (helm_values sets it), gateway the gateway's, dashboard the dashboard's; workers are \"namespace:name\" pairs because worker pods may run in other namespaces."
  type = object({
    operator  = optional(string, "layer-operator")
    gateway   = optional(string, "layer-gateway")
    dashboard = optional(string, "layer-dashboard")
    workers   = optional(list(string), ["layer:layer-worker"])
  })
  default = {}

  validation {
    condition = alltrue([
      for n in [var.service_accounts.operator, var.service_accounts.gateway, var.service_accounts.dashboard] :
      can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", n))
    ])
    error_message = "service_accounts.operator, .gateway and .dashboard must be Kubernetes names (lowercase letters, digits, '-' and '.')."
  }

  validation {
    condition     = alltrue([for w in var.service_accounts.workers : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?:([a-z0-9]([-a-z0-9.]*[a-z0-9])?|\\*)$", w))])
    error_message = "service_accounts.workers entries must be \"namespace:name\" (name may be * for every service account of that namespace), e.g. \"layer:layer-worker\"."
  }
}

variable "image_tag" {
  description = "Tag of the operator image in its ECR repository that helm_values points the chart at (image.tag). Blank: the chart's appVersion."
  type        = string
  default     = ""

  validation {
    condition     = var.image_tag == "" || can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a Docker tag (letters, digits, '_', '.', '-', at most 128 characters) or blank."
  }
}

# --- S3 -----------------------------------------------------------------------------------------

variable "bucket_name" {
  description = "Name of the S3 bucket for snapshots, history and clickstream. Null: \"<name>-\" plus a unique suffix AWS generates."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, not an IP address."
  }
}

variable "bucket" {
  description = "Retention and protection of the bucket: days history/ objects live, days noncurrent versions are kept, the KMS key for SSE-KMS (blank: SSE-S3), and force_destroy (lets `destroy` empty the bucket; keep false in production)."
  type = object({
    history_expiration_days     = optional(number, 90)
    clickstream_expiration_days = optional(number, 365)
    noncurrent_expiration_days  = optional(number, 30)
    kms_key_arn                 = optional(string, "")
    force_destroy               = optional(bool, false)
  })
  default = {}

  validation {
    condition     = var.bucket.history_expiration_days >= 1 && var.bucket.clickstream_expiration_days >= 1 && var.bucket.noncurrent_expiration_days >= 1
    error_message = "bucket.history_expiration_days, bucket.clickstream_expiration_days and bucket.noncurrent_expiration_days must be at least 1 (S3 lifecycle expirations are whole days)."
  }

  validation {
    condition     = var.bucket.kms_key_arn == "" || can(regex("^arn:aws[a-z-]*:kms:", var.bucket.kms_key_arn))
    error_message = "bucket.kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or blank for SSE-S3."
  }
}

variable "payloads_prefix" {
  description = "Key prefix of the operator's large Temporal payloads (s3.payloads.prefix of the chart); the workers role may read and write only there."
  type        = string
  default     = "layer-payloads/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.payloads_prefix))
    error_message = "payloads_prefix must be an S3 key prefix ending in '/', e.g. \"layer-payloads/\"."
  }
}

# --- ECR ----------------------------------------------------------------------------------------

variable "ecr" {
  description = "ECR repositories: gateway and operator images plus one for customer-built function images. Tags are immutable by default; untagged images expire after untagged_expiration_days and only the newest keep_tagged tagged images are kept."
  type = object({
    repositories             = optional(list(string), ["gateway", "operator", "functions"])
    immutable_tags           = optional(bool, true)
    untagged_expiration_days = optional(number, 7)
    keep_tagged              = optional(number, 50)
    force_delete             = optional(bool, false)
  })
  default = {}

  validation {
    condition     = alltrue([for r in ["gateway", "operator", "functions"] : contains(var.ecr.repositories, r)])
    error_message = "ecr.repositories must include gateway, operator and functions (the images helm_values and the operator use); add others after them."
  }

  validation {
    condition     = alltrue([for r in var.ecr.repositories : can(regex("^[a-z0-9]+([._-][a-z0-9]+)*$", r))])
    error_message = "ecr.repositories entries must be repository names of lowercase letters, digits and single '.', '_' or '-' separators."
  }

  validation {
    condition     = var.ecr.untagged_expiration_days >= 1 && var.ecr.keep_tagged >= 1
    error_message = "ecr.untagged_expiration_days and ecr.keep_tagged must be at least 1."
  }
}

# --- DNS / TLS ----------------------------------------------------------------------------------

variable "manage_public_dns" {
  description = "false (default): bring your own DNS and TLS. true: a Route53 hosted zone (or dns.zone_id's existing zone) and an ACM certificate for dns.host validated through it."
  type        = bool
  default     = false
}

variable "dns" {
  description = "When manage_public_dns = true: the public host of the ingress (ingress.host) and the zone: an existing zone_id, or zone_name to create one."
  type = object({
    host      = optional(string, "")
    zone_name = optional(string, "")
    zone_id   = optional(string, "")
  })
  default = {}

  validation {
    condition     = var.dns.host == "" || can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.dns.host))
    error_message = "dns.host must be a lowercase DNS name such as \"layer.example.com\"."
  }

  validation {
    condition     = var.dns.zone_name == "" || var.dns.zone_id == ""
    error_message = "dns: set zone_name (a zone is created) or zone_id (an existing zone is used), not both."
  }
}
