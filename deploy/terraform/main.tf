# The AWS stage of a hev layer install (install.md "Terraform"): the bucket, the IRSA roles, the
# image registry and, on the recommended path, a fresh EKS cluster with its VPC, system node group
# and Karpenter prerequisites; Route53/ACM only when asked. create_cluster = false binds to an
# existing cluster instead and skips network, eks, karpenter and efs.

data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition

  # The cluster side, whichever path made it. An existing cluster is described by variables (not
  # data sources) so that a plan of either path needs no AWS API call.
  # try(): with create_cluster = false and no existing_cluster, checks.tf says what is missing.
  cluster_name      = var.create_cluster ? module.eks[0].cluster_name : try(var.existing_cluster.name, "")
  oidc_provider_arn = var.create_cluster ? module.eks[0].oidc_provider_arn : try(var.existing_cluster.oidc_provider_arn, "")
  oidc_issuer_url   = var.create_cluster ? module.eks[0].oidc_issuer_url : try(var.existing_cluster.oidc_issuer_url, "")

  karpenter_enabled   = var.create_cluster ? var.karpenter.enabled : try(var.existing_cluster.karpenter_node_role, "") != ""
  karpenter_node_role = var.create_cluster ? (var.karpenter.enabled ? module.karpenter[0].node_role_name : "") : try(var.existing_cluster.karpenter_node_role, "")

  sa = {
    operator  = "${var.namespace}:${var.service_accounts.operator}"
    gateway   = "${var.namespace}:${var.service_accounts.gateway}"
    dashboard = "${var.namespace}:${var.service_accounts.dashboard}"
  }
}

# --- Storage and registry (both paths) ----------------------------------------------------------

module "s3" {
  source = "./modules/s3"

  name_prefix                 = var.name
  bucket_name                 = var.bucket_name
  history_expiration_days     = var.bucket.history_expiration_days
  clickstream_expiration_days = var.bucket.clickstream_expiration_days
  noncurrent_expiration_days  = var.bucket.noncurrent_expiration_days
  kms_key_arn                 = var.bucket.kms_key_arn
  force_destroy               = var.bucket.force_destroy
}

module "ecr" {
  source = "./modules/ecr"

  name_prefix              = var.name
  repositories             = var.ecr.repositories
  immutable_tags           = var.ecr.immutable_tags
  untagged_expiration_days = var.ecr.untagged_expiration_days
  keep_tagged              = var.ecr.keep_tagged
  force_delete             = var.ecr.force_delete
}

# --- Fresh cluster (create_cluster = true) ------------------------------------------------------

module "network" {
  source = "./modules/network"
  count  = var.create_cluster ? 1 : 0

  cluster_name               = var.name
  vpc_cidr                   = var.vpc_cidr
  availability_zones         = var.availability_zones
  workers_in_private_subnets = var.workers_in_private_subnets
  interface_endpoints        = var.interface_endpoints
  region                     = var.region
}

module "karpenter" {
  source = "./modules/karpenter"
  count  = var.create_cluster && var.karpenter.enabled ? 1 : 0

  cluster_name = var.name
  region       = var.region
}

module "eks" {
  source = "./modules/eks"
  count  = var.create_cluster ? 1 : 0

  cluster_name                 = var.name
  kubernetes_version           = var.kubernetes_version
  public_subnet_ids            = module.network[0].public_subnet_ids
  private_subnet_ids           = module.network[0].private_subnet_ids
  system_subnet_ids            = module.network[0].worker_subnet_ids
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  system_node_group            = var.system_node_group
  karpenter_nodes              = var.karpenter.enabled
  karpenter_node_role_arn      = var.karpenter.enabled ? module.karpenter[0].node_role_arn : ""
}

module "efs" {
  source = "./modules/efs"
  count  = var.create_cluster && var.enable_efs ? 1 : 0

  name                     = var.name
  vpc_id                   = module.network[0].vpc_id
  subnet_ids               = module.network[0].worker_subnet_ids
  client_security_group_id = module.eks[0].cluster_security_group_id
}

# --- IRSA roles (both paths) --------------------------------------------------------------------

module "gateway_role" {
  source = "./modules/irsa"

  role_name         = "${var.name}-gateway"
  description       = "hev layer gateway and operator: read/write of the install's S3 bucket"
  oidc_provider_arn = local.oidc_provider_arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = [local.sa.gateway, local.sa.operator]
  policy_json       = data.aws_iam_policy_document.bucket_read_write.json
}

module "workers_role" {
  source = "./modules/irsa"

  role_name         = "${var.name}-workers"
  description       = "hev layer worker pods: large Temporal payloads under the bucket's payloads/ prefix"
  oidc_provider_arn = local.oidc_provider_arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = var.service_accounts.workers
  policy_json       = data.aws_iam_policy_document.workers.json
}

module "dashboard_role" {
  source = "./modules/irsa"

  role_name         = "${var.name}-dashboard-cost-read"
  description       = "hev layer dashboard cost tab: AWS pricing, Cost Explorer and CloudWatch reads"
  oidc_provider_arn = local.oidc_provider_arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = [local.sa.dashboard]
  policy_json       = data.aws_iam_policy_document.cost_read.json
}

module "karpenter_controller_role" {
  source = "./modules/irsa"
  count  = var.create_cluster && var.karpenter.enabled ? 1 : 0

  role_name         = "${var.name}-karpenter-controller"
  description       = "Karpenter controller: launches and terminates the worker-cpu/worker-gpu nodes of this cluster only"
  oidc_provider_arn = local.oidc_provider_arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = ["${var.karpenter.namespace}:${var.karpenter.service_account}"]
  policy_json       = module.karpenter[0].controller_policy_json
}

module "load_balancer_controller_role" {
  source = "./modules/irsa"
  count  = var.create_cluster && var.load_balancer_controller.enabled ? 1 : 0

  role_name         = "${var.name}-aws-load-balancer-controller"
  description       = "AWS Load Balancer Controller: ALBs for the chart's Ingress"
  oidc_provider_arn = local.oidc_provider_arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = ["kube-system:${var.load_balancer_controller.service_account}"]
  policy_json       = data.aws_iam_policy_document.load_balancer_controller.json
}

module "efs_csi_role" {
  source = "./modules/irsa"
  count  = var.create_cluster && var.enable_efs ? 1 : 0

  role_name         = "${var.name}-efs-csi"
  description       = "EFS CSI driver: access points on this install's file system"
  oidc_provider_arn = local.oidc_provider_arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = ["kube-system:efs-csi-controller-sa"]
  policy_json       = data.aws_iam_policy_document.efs_csi.json
}

resource "aws_eks_addon" "efs_csi" {
  count = var.create_cluster && var.enable_efs ? 1 : 0

  cluster_name                = module.eks[0].cluster_name
  addon_name                  = "aws-efs-csi-driver"
  service_account_role_arn    = module.efs_csi_role[0].role_arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"
}

# --- Public DNS and TLS (manage_public_dns = true) ----------------------------------------------

module "dns" {
  source = "./modules/dns"
  count  = var.manage_public_dns ? 1 : 0

  name      = var.name
  host      = var.dns.host
  zone_name = var.dns.zone_name
  zone_id   = var.dns.zone_id
}

# --- The chart's values -------------------------------------------------------------------------

module "helm_values" {
  source = "./modules/helm-values"

  install_name             = var.name
  bucket_name              = module.s3.bucket_name
  region                   = var.region
  operator_role_arn        = module.gateway_role.role_arn
  operator_service_account = var.service_accounts.operator
  image_repository         = module.ecr.repository_urls["operator"]
  image_tag                = var.image_tag
  payloads_prefix          = var.payloads_prefix
  karpenter = {
    enabled      = local.karpenter_enabled
    cluster_name = local.cluster_name
    node_role    = local.karpenter_node_role
  }
  ingress = {
    host            = var.manage_public_dns ? var.dns.host : ""
    certificate_arn = var.manage_public_dns ? module.dns[0].certificate_arn : ""
  }
  notes = {
    "gateway image (gateway.image)"                               = module.ecr.repository_urls["gateway"]
    "dashboard cost-read role (dashboard.serviceAccount.roleArn)" = module.dashboard_role.role_arn
    "workers role (annotate the worker service accounts)"         = module.workers_role.role_arn
  }
}
