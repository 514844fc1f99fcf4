# Shared persistent volumes (install.md "Cluster: recommended"): one encrypted EFS file system
# with a mount target per subnet, reachable by NFS from the cluster's security group only. The
# EFS CSI driver add-on mounts it; its IRSA role is made by the root module.

resource "aws_efs_file_system" "this" {
  creation_token   = var.name
  encrypted        = true
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"

  # Files untouched for 30 days move to Infrequent Access, and back on first access.
  lifecycle_policy {
    transition_to_ia = "AFTER_30_DAYS"
  }

  lifecycle_policy {
    transition_to_primary_storage_class = "AFTER_1_ACCESS"
  }

  tags = { Name = var.name }
}

resource "aws_security_group" "this" {
  name        = "${var.name}-efs"
  description = "NFS from the EKS cluster security group to EFS"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "nfs" {
  security_group_id            = aws_security_group.this.id
  description                  = "NFS from cluster nodes"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = var.client_security_group_id
}

resource "aws_efs_mount_target" "this" {
  count = length(var.subnet_ids)

  file_system_id  = aws_efs_file_system.this.id
  subnet_id       = var.subnet_ids[count.index]
  security_groups = [aws_security_group.this.id]
}
