# The fresh EKS cluster (install.md "Cluster: recommended"): control plane with API access entries,
# the IAM OIDC provider IRSA needs, one always-on system node group (i4i.large: the serving path
# and the document cache share its local NVMe), the core add-ons, and the access entry that lets
# nodes Karpenter launches join. Karpenter's own IAM and queue are in modules/karpenter.

data "aws_partition" "current" {}

data "aws_iam_policy_document" "cluster_trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.cluster_name}-cluster"
  assume_role_policy = data.aws_iam_policy_document.cluster_trust.json
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_eks_cluster" "this" {
  name     = var.cluster_name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = true
  }

  vpc_config {
    subnet_ids              = concat(var.public_subnet_ids, var.private_subnet_ids)
    endpoint_public_access  = true
    endpoint_private_access = true
    public_access_cidrs     = var.endpoint_public_access_cidrs
  }

  enabled_cluster_log_types = ["api", "audit", "authenticator"]

  depends_on = [aws_iam_role_policy_attachment.cluster]
}

# The cluster security group is created by EKS; Karpenter's EC2NodeClass finds it by this tag.
resource "aws_ec2_tag" "cluster_sg_karpenter" {
  resource_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
  key         = "karpenter.sh/discovery"
  value       = var.cluster_name
}

# IRSA. IAM no longer checks thumbprints for EKS issuers, so none is pinned here.
resource "aws_iam_openid_connect_provider" "this" {
  url            = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
}

# --- System node group --------------------------------------------------------------------------

data "aws_iam_policy_document" "node_trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "system_node" {
  name               = "${var.cluster_name}-system-node"
  assume_role_policy = data.aws_iam_policy_document.node_trust.json
}

# The three policies every EKS node needs: join (worker), pod networking (CNI), image pulls
# (read-only ECR).
resource "aws_iam_role_policy_attachment" "system_node" {
  for_each = toset(["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])

  role       = aws_iam_role.system_node.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/${each.key}"
}

resource "aws_eks_node_group" "system" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "system"
  node_role_arn   = aws_iam_role.system_node.arn
  subnet_ids      = var.system_subnet_ids
  instance_types  = [var.system_node_group.instance_type]
  capacity_type   = "ON_DEMAND"
  disk_size       = var.system_node_group.disk_size_gib
  ami_type        = "AL2023_x86_64_STANDARD"

  scaling_config {
    min_size     = var.system_node_group.min_size
    desired_size = var.system_node_group.desired_size
    max_size     = var.system_node_group.max_size
  }

  labels = {
    "layer.hev.dev/node-role" = "system"
  }

  update_config {
    max_unavailable = 1
  }

  depends_on = [aws_iam_role_policy_attachment.system_node]

  # Something (the cluster autoscaler, a person) may resize the group; do not fight it.
  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
  }
}

# --- Add-ons ------------------------------------------------------------------------------------

resource "aws_eks_addon" "core" {
  for_each = toset(["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"])

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"

  # coredns needs a node to schedule on.
  depends_on = [aws_eks_node_group.system]
}

# --- Nodes Karpenter launches -------------------------------------------------------------------

resource "aws_eks_access_entry" "karpenter_nodes" {
  count         = var.karpenter_nodes ? 1 : 0
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = var.karpenter_node_role_arn
  type          = "EC2_LINUX"
}
