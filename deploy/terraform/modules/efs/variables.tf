variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "One mount target per subnet (one subnet per availability zone)."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "Security group allowed to mount (the EKS cluster security group, which every node carries)."
  type        = string
}
