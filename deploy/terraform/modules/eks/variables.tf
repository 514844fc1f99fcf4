variable "cluster_name" {
  type = string
}

variable "kubernetes_version" {
  type = string
}

variable "public_subnet_ids" {
  type = list(string)
}

variable "private_subnet_ids" {
  type = list(string)
}

variable "system_subnet_ids" {
  description = "Subnets of the system node group (public by default: no NAT on the fresh-cluster path)."
  type        = list(string)
}

variable "endpoint_public_access_cidrs" {
  type = list(string)
}

variable "system_node_group" {
  type = object({
    instance_type = string
    min_size      = number
    desired_size  = number
    max_size      = number
    disk_size_gib = number
  })
}

variable "karpenter_nodes" {
  description = "Whether nodes Karpenter launches get an access entry (a bool: the role ARN is unknown until applied, and count must be known at plan)."
  type        = bool
  default     = false
}

variable "karpenter_node_role_arn" {
  description = "IAM role of the nodes Karpenter launches, when karpenter_nodes."
  type        = string
  default     = ""
}
