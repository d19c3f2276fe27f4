from school_common.settings import GrpcSettings, ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "student-record"
    grpc: GrpcSettings = GrpcSettings(port=50062)
