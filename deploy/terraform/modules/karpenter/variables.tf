variable "region" {
  description = "The provider's region: the controller's EC2 and SSM permissions are pinned to it."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster name: the karpenter.sh/discovery tag value and workerKarpenter.clusterName."
  type        = string
}
