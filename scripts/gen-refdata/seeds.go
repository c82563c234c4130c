package main

// The hand-maintained half of the reference data. The ids below were generated once at random and
// are fixed forever: clients cache them, other rows reference them, and every database must agree.
// Add rows with fresh ids; never reuse or change an id. Once the migration has shipped, changes go
// into a new migration, not this generator's output.

// countyNamespace is the UUIDv5 namespace for county ids: id = uuid5(countyNamespace, "<5-digit FIPS>").
// Deriving the id from the FIPS code keeps it stable across regenerations and databases.
const countyNamespace = "9ef709c0-daf5-4f77-adc5-a255d732c40c"

type jurisdiction struct {
	Code string // USPS abbreviation, the public identifier
	Name string
	FIPS string // 2-digit state FIPS code, joins the county CSV
	Kind string // state, district or territory
}

// jurisdictions lists every state, DC and the inhabited territories, plus UM because the county
// source has a county-equivalent there (Midway Islands) and every county needs its jurisdiction.
var jurisdictions = []jurisdiction{
	{"AL", "Alabama", "01", "state"},
	{"AK", "Alaska", "02", "state"},
	{"AZ", "Arizona", "04", "state"},
	{"AR", "Arkansas", "05", "state"},
	{"CA", "California", "06", "state"},
	{"CO", "Colorado", "08", "state"},
	{"CT", "Connecticut", "09", "state"},
	{"DE", "Delaware", "10", "state"},
	{"DC", "District of Columbia", "11", "district"},
	{"FL", "Florida", "12", "state"},
	{"GA", "Georgia", "13", "state"},
	{"HI", "Hawaii", "15", "state"},
	{"ID", "Idaho", "16", "state"},
	{"IL", "Illinois", "17", "state"},
	{"IN", "Indiana", "18", "state"},
	{"IA", "Iowa", "19", "state"},
	{"KS", "Kansas", "20", "state"},
	{"KY", "Kentucky", "21", "state"},
	{"LA", "Louisiana", "22", "state"},
	{"ME", "Maine", "23", "state"},
	{"MD", "Maryland", "24", "state"},
	{"MA", "Massachusetts", "25", "state"},
	{"MI", "Michigan", "26", "state"},
	{"MN", "Minnesota", "27", "state"},
	{"MS", "Mississippi", "28", "state"},
	{"MO", "Missouri", "29", "state"},
	{"MT", "Montana", "30", "state"},
	{"NE", "Nebraska", "31", "state"},
	{"NV", "Nevada", "32", "state"},
	{"NH", "New Hampshire", "33", "state"},
	{"NJ", "New Jersey", "34", "state"},
	{"NM", "New Mexico", "35", "state"},
	{"NY", "New York", "36", "state"},
	{"NC", "North Carolina", "37", "state"},
	{"ND", "North Dakota", "38", "state"},
	{"OH", "Ohio", "39", "state"},
	{"OK", "Oklahoma", "40", "state"},
	{"OR", "Oregon", "41", "state"},
	{"PA", "Pennsylvania", "42", "state"},
	{"RI", "Rhode Island", "44", "state"},
	{"SC", "South Carolina", "45", "state"},
	{"SD", "South Dakota", "46", "state"},
	{"TN", "Tennessee", "47", "state"},
	{"TX", "Texas", "48", "state"},
	{"UT", "Utah", "49", "state"},
	{"VT", "Vermont", "50", "state"},
	{"VA", "Virginia", "51", "state"},
	{"WA", "Washington", "53", "state"},
	{"WV", "West Virginia", "54", "state"},
	{"WI", "Wisconsin", "55", "state"},
	{"WY", "Wyoming", "56", "state"},
	{"AS", "American Samoa", "60", "territory"},
	{"GU", "Guam", "66", "territory"},
	{"MP", "Northern Mariana Islands", "69", "territory"},
	{"PR", "Puerto Rico", "72", "territory"},
	{"UM", "U.S. Minor Outlying Islands", "74", "territory"},
	{"VI", "U.S. Virgin Islands", "78", "territory"},
}

// Case type categories. The routing evaluator's typeCategory parameter matches these values.
const (
	catPersonalInjury = "personal_injury"
	catMedical        = "medical_malpractice"
	catMassTort       = "mass_tort"
	catEmployment     = "employment"
	catOther          = "other"
)

var categories = []string{catPersonalInjury, catMedical, catMassTort, catEmployment, catOther}

type caseType struct {
	ID          string
	Name        string // machine name, lower snake case
	DisplayName string
	Category    string
	Explanation string // empty means NULL
}

// caseTypes is in display order: the four practice areas the public docs lead with first, then
// subtypes grouped by category.
var caseTypes = []caseType{
	{"461d3ad5-a8a3-43c5-90ec-3c60088c3a28", "personal_injury", "Personal Injury", catPersonalInjury,
		"Harm to a person caused by someone else's carelessness, when no narrower type fits."},
	{"94dc359c-6856-46fe-b711-8a5c95e4de0e", "medical_malpractice", "Medical Malpractice", catMedical,
		"A doctor, nurse, hospital or other provider fell below the accepted standard of care and the patient was hurt."},
	{"c30202c1-e63b-4fab-80ae-047122537f10", "workers_compensation", "Workers' Compensation", catEmployment,
		"Benefit claims for injuries or illnesses that arose out of a person's job."},
	{"b6a3d1ea-3df6-4060-8b45-b5e7e3f1f6c8", "mass_tort", "Mass Tort", catMassTort,
		"One product, drug or event injured many people who each bring their own claim."},

	{"45849aaa-bdcc-461d-871a-923744654e06", "auto_accident", "Auto Accident", catPersonalInjury,
		"Collisions involving passenger cars, SUVs or pickups."},
	{"c215e5ea-e01e-4c29-9ae7-a28307e45a5d", "truck_accident", "Truck Accident", catPersonalInjury,
		"Crashes involving tractor-trailers, delivery vans or other commercial vehicles."},
	{"e3d0630a-feea-4ae0-942b-f775be07420e", "motorcycle_accident", "Motorcycle Accident", catPersonalInjury,
		"Crashes in which the client was riding a motorcycle or scooter."},
	{"7bb08b26-f75a-4da1-bb95-af3498869fb5", "pedestrian_accident", "Pedestrian Accident", catPersonalInjury,
		"A vehicle struck the client while on foot."},
	{"23b2b72d-cc03-4884-a514-fdb4b9a70a23", "bicycle_accident", "Bicycle Accident", catPersonalInjury,
		"The client was hurt while cycling."},
	{"d31212d0-41f7-49e6-a749-ca3251e1f580", "rideshare_accident", "Rideshare Accident", catPersonalInjury,
		"Crashes involving a vehicle driven for an app-based ride service."},
	{"7f9ab56b-11ec-4861-b878-2699306fa681", "premises_liability", "Premises Liability", catPersonalInjury,
		"Injuries caused by unsafe conditions on property someone else owns or controls."},
	{"150667b9-7da6-4e80-bd69-5ba32e63bab1", "slip_and_fall", "Slip and Fall", catPersonalInjury,
		"Falls caused by wet floors, ice, uneven surfaces or similar hazards."},
	{"39e76fd1-3efb-468d-ac50-cfe9ae890e4e", "dog_bite", "Dog Bite", catPersonalInjury,
		"Bites and attacks by dogs or other animals."},
	{"9d7d1e99-3fe9-4da2-b2fe-810e77d40b02", "construction_accident", "Construction Accident", catPersonalInjury,
		"Injuries on building sites, often involving third parties beyond the employer."},
	{"4c6205a2-0be4-4326-a903-f57af5e57fd4", "wrongful_death", "Wrongful Death", catPersonalInjury,
		"Claims brought by the family or estate of a person killed through another's fault."},
	{"c7495b4d-ec9d-4fdd-892d-da7333e4ec17", "brain_injury", "Traumatic Brain Injury", catPersonalInjury,
		"Concussions and other head injuries with lasting cognitive effects."},
	{"6c60ecbb-4fe7-4a1e-91c1-7d72dfaf38d9", "spinal_cord_injury", "Spinal Cord Injury", catPersonalInjury,
		"Damage to the spine, including partial or full paralysis."},
	{"9bf3ee2f-69ab-43c6-bbd3-854cef7ef84b", "burn_injury", "Burn Injury", catPersonalInjury,
		"Thermal, chemical or electrical burns."},
	{"1eca00ab-debf-457f-9d6a-f513fef04a49", "sexual_abuse", "Sexual Abuse", catPersonalInjury,
		"Civil claims by survivors of sexual abuse against abusers and the institutions that enabled them."},

	{"4b4ce120-1db5-4672-96c0-212e405a966a", "birth_injury", "Birth Injury", catMedical,
		"Harm to a newborn or mother caused by errors before, during or right after delivery."},
	{"b2ad1f4c-1058-4564-8109-8d07117dd778", "nursing_home_abuse", "Nursing Home Abuse", catMedical,
		"Neglect or mistreatment of residents in long-term care facilities."},

	{"369d97f1-d712-408f-a17d-c8fcdd4e586e", "product_liability", "Product Liability", catMassTort,
		"A defectively designed, built or labelled product injured the client."},
	{"b830b873-b093-48ef-a008-259e790cee80", "dangerous_drugs", "Dangerous Drugs", catMassTort,
		"Prescription or over-the-counter medicines with serious side effects the maker failed to disclose."},
	{"90a4688a-1760-4e53-a6d8-045db99eaca9", "defective_medical_devices", "Defective Medical Devices", catMassTort,
		"Implants and other medical devices that failed or caused harm."},
	{"fe1a415b-78c6-4074-a2c1-3a093703c877", "toxic_exposure", "Toxic Exposure", catMassTort,
		"Illness from exposure to asbestos, chemicals, contaminated water or similar substances."},

	{"c39c8e04-9f4c-4a91-995d-f455070cb56d", "employment_discrimination", "Employment Discrimination", catEmployment,
		"Unequal treatment at work because of a protected characteristic."},
	{"9562d7c8-f719-4832-8ed2-3c13b0931310", "wrongful_termination", "Wrongful Termination", catEmployment,
		"Firing that breached a contract, public policy or anti-retaliation law."},
	{"320c95aa-de58-4c91-a253-f695565327c6", "wage_and_hour", "Wage and Hour", catEmployment,
		"Unpaid overtime, minimum wage violations and misclassified workers."},
	{"ae50cc14-ee8a-4a68-8241-524adfae9d6d", "sexual_harassment", "Sexual Harassment", catEmployment,
		"Unwelcome conduct of a sexual nature in the workplace."},

	{"b32638d5-f5cc-40e2-8f36-5a052de129b0", "social_security_disability", "Social Security Disability", catOther,
		"Applications and appeals for federal disability benefits."},
	{"b68c1382-72e9-4b41-acc8-81e9ac3fec3d", "civil_rights", "Civil Rights", catOther,
		"Police misconduct, excessive force and other violations of constitutional rights."},
	{"2ca4eec0-fcd4-4a48-ae42-901e13115eb0", "insurance_bad_faith", "Insurance Bad Faith", catOther,
		"An insurer unreasonably denied, delayed or underpaid a valid claim."},
}

// Custom field types, as named by the public contract.
const (
	ftText    = "TEXT"
	ftNumber  = "NUMBER"
	ftDecimal = "DECIMAL"
	ftEnum    = "ENUM"
	ftDate    = "DATE"
	ftBoolean = "BOOLEAN"
)

var fieldTypes = []string{ftText, ftNumber, ftDecimal, ftEnum, ftDate, ftBoolean}

type enumOption struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

type validationRule struct {
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	MaxLength *int     `json:"maxLength,omitempty"`
}

type caseTypeField struct {
	ID          string
	CaseType    string // case type machine name
	Name        string
	DisplayName string
	Type        string
	Required    bool
	Options     []enumOption    // ENUM only
	Rule        *validationRule // nil means no rule
}

func num(v float64) *float64 { return &v }
func length(n int) *int      { return &n }

// caseTypeFields is grouped by case type; display order is the position within the group.
var caseTypeFields = []caseTypeField{
	{ID: "9b3f5e10-641d-4f20-b70a-7205edb97051", CaseType: "personal_injury", Name: "num_people_involved",
		DisplayName: "Number of People Involved", Type: ftNumber, Rule: &validationRule{Min: num(1), Max: num(100)}},
	{ID: "4ebee3e0-1d20-4910-9aea-d93af5c465f0", CaseType: "personal_injury", Name: "injury_description",
		DisplayName: "Injury Description", Type: ftText, Required: true, Rule: &validationRule{MaxLength: length(2000)}},
	{ID: "978b64bf-d602-4153-a8e5-7721806a03bd", CaseType: "personal_injury", Name: "police_report_filed",
		DisplayName: "Police Report Filed", Type: ftBoolean},
	{ID: "47542079-9bde-4be2-b54e-50a9bf16d263", CaseType: "personal_injury", Name: "at_fault_insurer",
		DisplayName: "At-Fault Party's Insurer", Type: ftText, Rule: &validationRule{MaxLength: length(200)}},

	{ID: "28b9dcc9-c724-41a8-81f1-5738737474e5", CaseType: "auto_accident", Name: "client_role",
		DisplayName: "Client's Role", Type: ftEnum, Required: true, Options: []enumOption{
			{"Driver", "driver"}, {"Passenger", "passenger"}, {"Pedestrian", "pedestrian"}, {"Cyclist", "cyclist"},
		}},
	{ID: "2eabcba5-e975-4712-b803-1c9dad6f30b3", CaseType: "auto_accident", Name: "vehicle_type",
		DisplayName: "Client Vehicle Type", Type: ftEnum, Options: []enumOption{
			{"Passenger Car", "passenger_car"}, {"SUV or Pickup", "suv_pickup"}, {"Commercial Truck", "commercial_truck"},
			{"Motorcycle", "motorcycle"}, {"Rideshare Vehicle", "rideshare"}, {"None", "none"},
		}},
	{ID: "a55bdeb4-d069-4907-8898-7794afd86aa0", CaseType: "auto_accident", Name: "police_report_number",
		DisplayName: "Police Report Number", Type: ftText, Rule: &validationRule{MaxLength: length(50)}},
	{ID: "d3999175-f70a-4cb6-8bbf-8f0a6a30aa32", CaseType: "auto_accident", Name: "policy_limits",
		DisplayName: "Known Policy Limits (USD)", Type: ftDecimal, Rule: &validationRule{Min: num(0)}},

	{ID: "e878cd31-67de-4d70-b0c8-552f95f94683", CaseType: "truck_accident", Name: "motor_carrier_name",
		DisplayName: "Motor Carrier", Type: ftText, Rule: &validationRule{MaxLength: length(200)}},
	{ID: "5da8894d-e3a0-446b-b880-9ea3f1c15056", CaseType: "truck_accident", Name: "usdot_number",
		DisplayName: "USDOT Number", Type: ftText, Rule: &validationRule{MaxLength: length(8)}},

	{ID: "8b11bae5-d21c-4d11-b7da-714d72702b38", CaseType: "medical_malpractice", Name: "provider_type",
		DisplayName: "Provider Type", Type: ftEnum, Required: true, Options: []enumOption{
			{"Hospital", "hospital"}, {"Physician", "physician"}, {"Surgeon", "surgeon"}, {"Nurse", "nurse"},
			{"Pharmacy", "pharmacy"}, {"Other", "other"},
		}},
	{ID: "ff88a6f4-3e3b-4fb2-95ce-18d5227f534d", CaseType: "medical_malpractice", Name: "treatment_date",
		DisplayName: "Date of Treatment", Type: ftDate, Required: true},
	{ID: "d32d6c07-935d-46b7-996c-d93b7da52936", CaseType: "medical_malpractice", Name: "discovery_date",
		DisplayName: "Date Harm Was Discovered", Type: ftDate},
	{ID: "ad27d410-0b9e-4aa1-900a-03dcce13f009", CaseType: "medical_malpractice", Name: "expert_reviewed",
		DisplayName: "Records Reviewed by a Medical Expert", Type: ftBoolean},

	{ID: "bca686ee-57af-482f-946e-62480043791c", CaseType: "workers_compensation", Name: "employer_name",
		DisplayName: "Employer", Type: ftText, Required: true, Rule: &validationRule{MaxLength: length(200)}},
	{ID: "cde5aaad-4791-4800-9272-1f548ccce7b8", CaseType: "workers_compensation", Name: "average_weekly_wage",
		DisplayName: "Average Weekly Wage (USD)", Type: ftDecimal, Rule: &validationRule{Min: num(0)}},
	{ID: "663b3cfc-0397-4f78-8258-44b331aad7c8", CaseType: "workers_compensation", Name: "reported_to_employer",
		DisplayName: "Injury Reported to Employer", Type: ftBoolean},
	{ID: "07c940d2-514a-4483-a9ee-e36d87f6684e", CaseType: "workers_compensation", Name: "work_days_missed",
		DisplayName: "Work Days Missed", Type: ftNumber, Rule: &validationRule{Min: num(0), Max: num(3650)}},

	{ID: "2746ce75-3f97-483a-8b29-ce9a143429f2", CaseType: "mass_tort", Name: "product_name",
		DisplayName: "Product or Substance", Type: ftText, Required: true, Rule: &validationRule{MaxLength: length(200)}},
	{ID: "f0621ed3-03c8-4215-aa22-94fddb6ab5cb", CaseType: "mass_tort", Name: "exposure_start_date",
		DisplayName: "First Exposure or Use", Type: ftDate},
	{ID: "8732d58a-2f5c-44b5-b1ec-e8c03feec921", CaseType: "mass_tort", Name: "exposure_months",
		DisplayName: "Months of Exposure or Use", Type: ftNumber, Rule: &validationRule{Min: num(0), Max: num(1200)}},
	{ID: "6595f628-e36e-4d23-8741-aeb769bf7f4a", CaseType: "mass_tort", Name: "diagnosis",
		DisplayName: "Diagnosis", Type: ftText, Rule: &validationRule{MaxLength: length(500)}},

	{ID: "4a65cf83-e7d2-4e84-8777-f630f4f88998", CaseType: "nursing_home_abuse", Name: "facility_name",
		DisplayName: "Facility Name", Type: ftText, Required: true, Rule: &validationRule{MaxLength: length(200)}},
	{ID: "2b646c2a-90d1-4105-b176-d953565b4e85", CaseType: "nursing_home_abuse", Name: "abuse_type",
		DisplayName: "Type of Abuse", Type: ftEnum, Required: true, Options: []enumOption{
			{"Physical", "physical"}, {"Neglect", "neglect"}, {"Financial", "financial"},
			{"Emotional", "emotional"}, {"Sexual", "sexual"},
		}},
	{ID: "21423bdd-cc8a-48d0-bd6f-3aa9ed04a1e9", CaseType: "nursing_home_abuse", Name: "still_resident",
		DisplayName: "Resident Still Lives at the Facility", Type: ftBoolean},
}
