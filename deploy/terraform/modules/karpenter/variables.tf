variable "cluster_name" {
  description = "EKS cluster name: the karpenter.sh/discovery tag value and workerKarpenter.clusterName."
  type        = string
}
